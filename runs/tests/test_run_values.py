"""The index of config and summary values (runs.values) stays true to what runs hold, through
every way runs are written, moved and deleted."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runs import services
from runs.models import MetricKey, Run, RunValue
from runs.values import INDEXED_TEXT, flat_values, indexed
from tests.factories import ProjectFactory, RunFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = RunValue.Kind


def index_of(run) -> dict:
    """{(column, name): (kind, number, text)} of a run's indexed values."""
    streams = {MetricKey.Stream.CONFIG: "config", MetricKey.Stream.SUMMARY: "summary"}
    return {
        (streams[stream], name): (kind, number, text)
        for stream, name, kind, number, text in RunValue.objects.filter(run=run).values_list(
            "key__stream", "key__name", "kind", "number", "text"
        )
    }


def expected_index(run) -> dict:
    return {
        (column, name): indexed(value)
        for column in ("config", "summary")
        for name, value in flat_values(getattr(run, column)).items()
    }


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def team(alice):
    return TeamFactory(name="vision", creator=alice)


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


def test_names_follow_the_query_language():
    data = {
        "lr": 0.1,
        "val/acc": 0.9,
        "final": {"loss": 0.2, "deep": {"x": 1}},
        "a.b": "literal",
        "a": {"b": "nested", "c": 3},
        "odd": {"with.dot": 1},
        "": 5,
    }
    assert flat_values(data) == {
        "lr": 0.1,
        "val/acc": 0.9,
        "final": {"loss": 0.2, "deep": {"x": 1}},
        "final.loss": 0.2,
        "final.deep": {"x": 1},
        "final.deep.x": 1,
        "a.b": "literal",  # the key as written wins over the path a -> b
        "a": {"b": "nested", "c": 3},
        "a.c": 3,
        "odd": {"with.dot": 1},  # a nested key with a dot has no query name
    }


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (3, (Kind.NUMBER, 3.0, None)),
        (0.5, (Kind.NUMBER, 0.5, None)),
        (10**400, (Kind.NUMBER, math.inf, None)),
        (True, (Kind.BOOLEAN, 1.0, None)),
        (False, (Kind.BOOLEAN, 0.0, None)),
        ("adam", (Kind.STRING, None, "adam")),
        ("x" * 1000, (Kind.STRING, None, "x" * INDEXED_TEXT)),
        (None, (Kind.NULL, None, None)),
        ({"a": 1}, (Kind.OBJECT, None, None)),
        ([1, 2], (Kind.ARRAY, None, None)),
    ],
)
def test_values_are_stored_by_kind(value, stored):
    assert indexed(value) == stored


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
        max_leaves=12,
    )
)
def test_any_json_flattens_to_indexable_values(data):
    for name, value in flat_values({"k": data}).items():
        assert name and len(name) <= 512
        kind, number, text = indexed(value)
        assert number is None or not math.isnan(number)
        assert kind in Kind.values
        assert text is None or len(text) <= INDEXED_TEXT


def test_create_save_and_client_update_keep_the_index(project, alice):
    run = RunFactory(project=project, author=alice, config={"lr": 0.1}, summary={"loss": 1})
    assert index_of(run) == expected_index(run)
    run.summary = {"loss": 0.5, "acc": 0.9}
    run.save(update_fields=["summary"])
    assert index_of(run) == expected_index(run)
    assert index_of(run)["summary", "loss"] == (Kind.NUMBER, 0.5, None)
    run.config = {}
    run.save()
    assert ("config", "lr") not in index_of(run)


def test_bulk_writes_keep_the_index(project, alice):
    runs = Run.objects.bulk_create(
        [
            Run(project=project, run_id=f"r{n}", config={"n": n}, summary={"s": str(n)})
            for n in range(3)
        ]
    )
    assert all(index_of(run) == expected_index(run) for run in runs)
    for run in runs:
        run.summary = {"s": None, "t": [1]}
    Run.objects.bulk_update(runs, ["summary"])
    assert all(index_of(run) == expected_index(run) for run in runs)
    Run.objects.filter(project=project).update(config={"same": True})
    for run in Run.objects.filter(project=project):
        assert index_of(run) == expected_index(run)
        assert index_of(run)["config", "same"] == (Kind.BOOLEAN, 1.0, None)


def test_moved_runs_take_their_values_and_deleted_runs_leave_none(project, team, alice):
    target = ProjectFactory(entity=team, creator=alice, name="archive")
    run = RunFactory(project=project, author=alice, config={"lr": 0.1})
    stays = RunFactory(project=project, author=alice, config={"lr": 0.2})
    services.runs_move(
        actor=alice, source=project, runs=Run.objects.filter(pk=run.pk), target=target
    )
    assert set(RunValue.objects.filter(run=run).values_list("project", flat=True)) == {target.pk}
    assert set(RunValue.objects.filter(run=stays).values_list("project", flat=True)) == {project.pk}
    services.runs_delete(actor=alice, project=target, runs=Run.objects.filter(pk=run.pk))
    assert not RunValue.objects.filter(run_id=run.pk).exists()


def test_file_stream_summary_reindexes(project, alice):
    from runs.ingest import FileStreamUpdate, apply_file_stream

    run = RunFactory(project=project, author=alice, summary={"_step": 1, "loss": 2})
    apply_file_stream(run, FileStreamUpdate(summary={"_step": 2, "loss": 1.5}))
    run.refresh_from_db()
    assert index_of(run)["summary", "loss"] == (Kind.NUMBER, 1.5, None)
    assert index_of(run) == expected_index(run)


PAGES_AT_MOST = 20  # a cursor that never ends shows as a failure, not a hang


def walk(project, run_filter, sort):
    from runs import selectors

    sort, seen, cursor = selectors.Sort.parse(sort), [], None
    for _ in range(PAGES_AT_MOST):
        page = selectors.runs_page(project, run_filter, sort, cursor)
        seen += [run.run_id for run in page.runs]
        if not (cursor := page.next_cursor):
            break
    # And back from the last page, each page before the one after it.
    back = [run.run_id for run in page.runs]
    for _ in range(PAGES_AT_MOST):
        if not (cursor := page.prev_cursor):
            break
        page = selectors.runs_page(project, run_filter, sort, cursor)
        back = [run.run_id for run in page.runs] + back
    assert back == seen
    return page.total, seen


@pytest.mark.parametrize("walk_length", [2000, 60, 3])
@pytest.mark.parametrize("sort", ["-summary.loss", "config.opt", "-created"])
def test_narrow_and_broad_queries_page_the_same_runs(
    project, alice, monkeypatch, sort, walk_length
):
    """A page is read from the set of matching runs or by probing runs in order (falling back
    to the set when the walk finds too few), by how many match; every way gives the same runs
    in the same order."""
    from runs import key_order, selectors

    monkeypatch.setattr(key_order, "WALK", walk_length)

    for n in range(130):
        summary = {"loss": n % 7} if n % 5 else {"loss": "diverged"} if n % 10 else {}
        config = {"opt": ["adam", "sgd", None][n % 3], "lr": n % 4 / 10}
        RunFactory(project=project, author=alice, run_id=f"r{n:03}", summary=summary, config=config)
    run_filter = selectors.RunFilter(q="config.lr >= 0.1 and not summary.loss = 3")
    monkeypatch.setattr(selectors, "NARROW_MATCHES", 10**6)
    narrow = walk(project, run_filter, sort)
    monkeypatch.setattr(selectors, "NARROW_MATCHES", 0)
    broad = walk(project, run_filter, sort)
    assert narrow == broad
    total, seen = narrow
    assert total == len(seen) == len(set(seen)) > selectors.PAGE_SIZE


def test_many_matches_of_key_conditions_are_counted_up_to_a_limit(
    client, project, alice, monkeypatch
):
    """The table counts runs matching a filter up to COUNT_LIMIT ("5+" here) when many match;
    matches the index of values bounds by SET_COUNT_MATCHES, the unfiltered table and the JSON
    API are counted exactly."""
    from runs import selectors

    monkeypatch.setattr(selectors, "COUNT_LIMIT", 5)
    monkeypatch.setattr(selectors, "NARROW_MATCHES", 5)
    monkeypatch.setattr(selectors, "SET_COUNT_MATCHES", 5)
    for n in range(12):
        RunFactory(project=project, author=alice, run_id=f"r{n}", config={"lr": n % 2})
    sort = selectors.Sort.parse("-created")

    def page(q):
        return selectors.runs_page(project, selectors.RunFilter(q=q), sort)

    many, few = page("config.lr = 0"), page("config.lr = 1 and run_id = r1")
    assert (many.total, many.total_is_lower_bound, len(many.runs)) == (5, True, 6)
    assert (few.total, few.total_is_lower_bound) == (1, False)
    monkeypatch.setattr(selectors, "SET_COUNT_MATCHES", 6)  # the index bounds them: exact
    assert (page("config.lr = 0").total, page("config.lr = 0").total_is_lower_bound) == (6, False)
    finished = page("state = finished")  # a run field: no index of values to read
    assert (finished.total, finished.total_is_lower_bound) == (5, True)
    assert page("run_id = r3").total_is_lower_bound is False
    unfiltered = selectors.runs_page(project, selectors.RunFilter(), sort)
    assert (unfiltered.total, unfiltered.total_is_lower_bound) == (12, False)
    exact = selectors.runs_page(
        project, selectors.RunFilter(q="config.lr = 0"), sort, exact_total=True
    )
    assert (exact.total, exact.total_is_lower_bound) == (6, False)

    client.force_login(alice)
    monkeypatch.setattr(selectors, "SET_COUNT_MATCHES", 5)
    response = client.get(project.get_absolute_url(), {"q": "config.lr = 0"})
    assert '<strong id="run-count">5+</strong>' in response.content.decode()
    assert 'data-total-text="5+"' in response.content.decode()


@pytest.mark.parametrize("filtered", [False, True])
def test_grouping_through_the_index_equals_grouping_the_json(project, alice, filtered):
    from runs import grouping

    for n in range(40):
        value = [1, 2.5, "adam", True, None, {"a": n % 2}, [n % 2]][n % 7] if n % 9 else "x"
        config = {} if n % 11 == 0 else {"opt": value}
        summary = {"loss": n / 7, "acc": "n/a" if n % 5 == 0 else n % 3}
        RunFactory(project=project, author=alice, run_id=f"r{n}", config=config, summary=summary)
    runs = Run.objects.filter(project=project)
    if filtered:
        runs = runs.exclude(run_id__in=["r1", "r2", "r3"])
    (key,), _ = grouping.parse_group_keys({"group": "config.opt"})
    metrics = ["summary.loss", "summary.acc"]

    def as_set(rows):
        return {
            (
                tuple(str(value) for value in row.values),
                row.count,
                tuple(
                    (m.count, round(m.mean or 0, 9), round(m.std or 0, 9), m.min, m.max)
                    for m in row.metrics
                ),
            )
            for row in rows
        }

    indexed = grouping.group_rows(runs, [key], metrics, 100, project=project, filtered=filtered)
    in_json = grouping.group_rows(runs, [key], metrics, 100)
    assert as_set(indexed) == as_set(in_json)
    assert [row.count for row in indexed] == sorted((row.count for row in indexed), reverse=True)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("config.lr = 0", 3),
        ("config.lr = 0 or config.lr = 1", 6),
        ("config.lr = 0 or config.tag exists", 4),  # r0 matches both: counted once
        ("config.lr = 1 and run_id != r1", 2),
        ("not config.lr = 0", 4),
    ],
)
def test_counts_from_the_index_are_exact(project, alice, q, expected):
    from runs import selectors

    for n in range(7):
        config = {"lr": n % 2} if n < 6 else {}
        if n in (0, 6):
            config["tag"] = "x"
        RunFactory(project=project, author=alice, run_id=f"r{n}", config=config)
    sort = selectors.Sort.parse("-created")
    page = selectors.runs_page(project, selectors.RunFilter(q=q), sort)
    assert (page.total, page.total_is_lower_bound) == (expected, False)
    assert (
        page.total
        == Run.objects.filter(project=project)
        .filter(selectors.query.to_q(selectors.query.parse_text(q)))
        .count()
    )
