"""The run-query compiler against a few runs whose config and summary hold values of mixed
types: numbers compare as numbers and text as text on SQLite and PostgreSQL alike, missing keys
and nested keys behave, and every condition negates cleanly."""

from datetime import UTC, datetime, timedelta

import pytest

from runs.models import Run
from runs.query import (
    And,
    Compare,
    Contains,
    Exists,
    HasTag,
    In,
    Not,
    Or,
    QueryError,
    Regex,
    order_by,
    to_q,
)
from tests.factories import ProjectFactory, RunFactory

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def cast(team, alice, bob):
    project = ProjectFactory(entity=team, creator=alice, name="mixed")

    def run(run_id, author, config, summary, hours, **fields):
        return RunFactory(
            project=project,
            author=author,
            run_id=run_id,
            config=config,
            summary=summary,
            created_at=T0 + timedelta(hours=hours),
            **fields,
        )

    run(
        "num",
        alice,
        {"lr": 0.01, "opt": "adam", "layers": 3},
        {"acc": 0.95, "loss": 0.1, "final": {"loss": 0.05}, "flag": True},
        0,
        state="finished",
        name="baseline",
        tags=["best", "a"],
        runtime=100.0,
        heartbeat_at=T0,
    )
    run(
        "int",
        bob,
        {"lr": 1, "opt": "sgd", "layers": 3},
        {"acc": 0.5, "loss": "NaN", "final": {"loss": 0.2}, "flag": False, "one": 1},
        1,
        state="running",
        name="Sgd-Try",
        tags=["a"],
        runtime=50.0,
        group="g1",
    )
    run(
        "str",
        alice,
        {"lr": "0.001", "opt": "adamw"},
        {"acc": "high", "loss": None, "val.loss": 0.3, "final": 7},
        2,
        state="failed",
        tags=[],
    )
    run("none", None, {}, {}, 3, state="crashed")
    run("big", alice, {"lr": 10, "layers": 1}, {"acc": 2**70}, 4, state="finished")
    return project


def matching(project, node):
    runs = Run.objects.filter(project=project).filter(to_q(node))
    return sorted(runs.values_list("run_id", flat=True))


pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (Compare("summary.acc", ">", 0.9), ["big", "num"]),
        (Compare("summary.acc", "<", 1), ["int", "num"]),
        (Compare("summary.acc", ">=", 0.5), ["big", "int", "num"]),
        (Compare("summary.acc", "<=", 0.5), ["int"]),
        (Compare("summary.acc", ">", 10**20), ["big"]),
        (Compare("summary.acc", "=", 2**70), ["big"]),
        (Compare("config.lr", "=", 1), ["int"]),
        (Compare("config.lr", "=", 1.0), ["int"]),
        (Compare("config.lr", "=", "0.001"), ["str"]),
        (Compare("config.lr", "<", 1), ["num"]),
        (Compare("config.opt", ">", "adam"), ["int", "str"]),
        (Compare("config.opt", "=", "adam"), ["num"]),
        (Compare("config.opt", "!=", "adam"), ["big", "int", "none", "str"]),
        (Compare("summary.acc", "=", "high"), ["str"]),
        (Compare("summary.final.loss", "<", 0.1), ["num"]),
        (Compare("summary.final.loss", ">", 0), ["int", "num"]),
        (Compare("summary.val.loss", "=", 0.3), ["str"]),
        (Compare("summary.flag", "=", True), ["num"]),
        (Compare("summary.flag", "=", False), ["int"]),
        (Compare("summary.one", "=", True), []),
        (Compare("summary.flag", "=", 1), []),
        (Compare("summary.loss", "=", None), ["big", "none", "str"]),
        (Compare("summary.loss", "!=", None), ["int", "num"]),
        (Compare("summary.loss", "=", "NaN"), ["int"]),
        (Not(Compare("summary.acc", ">", 0.9)), ["int", "none", "str"]),
        (Exists("summary.loss"), ["int", "num", "str"]),
        (Exists("summary.loss", present=False), ["big", "none"]),
        (Exists("summary.final.loss"), ["int", "num"]),
        (Regex("config.opt", "^adam"), ["num", "str"]),
        (Regex("config.lr", "0"), ["str"]),
        (Not(Regex("config.opt", "^adam")), ["big", "int", "none"]),
        (In("config.lr", (0.01, "0.001")), ["num", "str"]),
        (In("config.lr", (0.01, "0.001"), negate=True), ["big", "int", "none"]),
        (In("config.layers", ()), []),
    ],
)
def test_config_and_summary_keys(cast, node, expected):
    assert matching(cast, node) == expected


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (Compare("state", "=", "finished"), ["big", "num"]),
        (In("state", ("running", "failed")), ["int", "str"]),
        (In("state", ("running", "failed"), negate=True), ["big", "none", "num"]),
        (Compare("author", "=", "alice"), ["big", "num", "str"]),
        (Compare("author", "!=", "alice"), ["int", "none"]),
        (Exists("author", present=False), ["none"]),
        (Compare("name", "=", "baseline"), ["num"]),
        (Compare("run_id", "=", "int"), ["int"]),
        (Contains("name", "sgd"), ["int"]),
        (Regex("name", "^base"), ["num"]),
        (Compare("group", "=", "g1"), ["int"]),
        (Exists("group"), ["int"]),
        (Compare("job_type", "=", None), ["big", "int", "none", "num", "str"]),
        (HasTag("a"), ["int", "num"]),
        (Not(HasTag("a")), ["big", "none", "str"]),
        (Compare("tags", "=", "best"), ["num"]),
        (In("tags", ("best", "nope")), ["num"]),
        (Exists("tags", present=False), ["big", "none", "str"]),
        (Compare("created_at", ">", T0 + timedelta(hours=2)), ["big", "none"]),
        (Compare("created_at", "<=", datetime(2026, 11, 1, 1)), ["int", "num"]),
        (Compare("runtime", ">", 60), ["num"]),
        (Not(Compare("runtime", ">", 60)), ["big", "int", "none", "str"]),
        (Exists("heartbeat_at"), ["num"]),
        (And(()), ["big", "int", "none", "num", "str"]),
        (Or(()), []),
        (Not(Or(())), ["big", "int", "none", "num", "str"]),
        (Not(And(())), []),
        (
            And((Compare("config.lr", "<=", 0.01), Compare("summary.acc", ">", 0.9))),
            ["num"],
        ),
        (
            Or((Compare("state", "=", "crashed"), Not(Exists("summary.acc")))),
            ["none"],
        ),
    ],
)
def test_run_fields_and_combinations(cast, node, expected):
    assert matching(cast, node) == expected


@pytest.mark.parametrize(
    ("node", "fragment"),
    [
        (Compare("notes", "=", "x"), "notes"),
        (Compare("config.", "=", 1), "empty key"),
        (Compare("summary.a..b", "=", 1), "empty key"),
        (Compare("state", "=", 3), "text"),
        (Compare("runtime", ">", "fast"), "numbers"),
        (Compare("created_at", ">", "2026"), "dates"),
        (Compare("summary.acc", ">", None), "null"),
        (Compare("summary.acc", "<", True), "true/false"),
        (Compare("summary.acc", "=", [1]), "numbers, text"),
        (Compare("summary.acc", "=", float("nan")), "nan"),
        (Compare("summary.acc", "~", 1), "~"),
        (Regex("config.opt", "("), "regular expression"),
        (Regex("runtime", "1"), "not text"),
        (Contains("config.opt", "a"), "run fields"),
        (Compare("tags", ">", "a"), "Tags"),
        (HasTag(3), "tag"),
        ("state = 1", "Not a query"),
    ],
)
def test_what_the_compiler_refuses(node, fragment):
    with pytest.raises(QueryError, match=fragment):
        to_q(node)


def test_deep_or_large_queries_are_refused():
    node = Compare("state", "=", "running")
    for _ in range(60):
        node = Not(node)
    with pytest.raises(QueryError, match="deeper"):
        to_q(node)
    with pytest.raises(QueryError, match="more than"):
        to_q(Or(tuple(Compare("state", "=", str(i)) for i in range(600))))
    with pytest.raises(QueryError, match="more than"):
        to_q(In("config.lr", tuple(range(600))))


def ordered(project, field, descending):
    runs = Run.objects.filter(project=project).order_by(*order_by(field, descending=descending))
    return list(runs.values_list("run_id", flat=True))


def test_orders_by_run_fields_with_runs_without_a_value_last(cast):
    assert ordered(cast, "created_at", False) == ["num", "int", "str", "none", "big"]
    assert ordered(cast, "created_at", True) == ["big", "none", "str", "int", "num"]
    assert ordered(cast, "runtime", True)[:2] == ["num", "int"]
    assert ordered(cast, "runtime", False)[:2] == ["int", "num"]
    # Ties (no runtime) in the order they were created, both ways.
    assert ordered(cast, "runtime", False)[2:] == ["str", "none", "big"]
    assert ordered(cast, "runtime", True)[2:] == ["big", "none", "str"]


def test_orders_by_keys_numerically_with_missing_keys_last(cast):
    assert ordered(cast, "config.layers", False) == ["big", "num", "int", "str", "none"]
    assert ordered(cast, "config.layers", True) == ["int", "num", "big", "none", "str"]
    assert ordered(cast, "summary.final.loss", False)[:2] == ["num", "int"]
    assert ordered(cast, "summary.final.loss", True)[-2:] == ["none", "str"]


def test_ordering_by_tags_or_an_unknown_field_is_refused():
    with pytest.raises(QueryError, match="tags"):
        order_by("tags", descending=False)
    with pytest.raises(QueryError, match="notes"):
        order_by("notes", descending=False)


def test_orders_keys_of_mixed_kinds_alike_on_every_database(cast):
    # Numbers (in the asked direction), then text, then runs without the key.
    assert ordered(cast, "summary.acc", True) == ["big", "num", "int", "str", "none"]
    assert ordered(cast, "summary.acc", False) == ["int", "num", "big", "str", "none"]
    assert ordered(cast, "config.lr", False) == ["num", "int", "big", "str", "none"]
