"""One implementation, one set of semantics: a text query and its MongoDB-style counterpart (the
client's `api.runs(filters=...)`) select the same runs of the same data, on SQLite and on
PostgreSQL alike (run the suite with DATABASE_URL pointing at PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest

from runs.models import Run
from runs.query import QueryError, from_mongo, parse_text, to_q
from tests.factories import ProjectFactory, RunFactory

T0 = datetime(2026, 11, 1, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(team, alice, bob):
    project = ProjectFactory(entity=team, creator=alice, name="zoo")

    def run(run_id, author, hours, **fields):
        RunFactory(
            project=project,
            author=author,
            run_id=run_id,
            created_at=T0 + timedelta(hours=hours),
            **fields,
        )

    run(
        "r1",
        alice,
        -24,
        name="resnet50-base",
        state="finished",
        tags=["baseline", "cifar"],
        config={"lr": 0.01, "opt": "adam", "model": {"depth": 50}, "data set": "cifar"},
        summary={"val/acc": 0.93, "loss": 0.2, "val acc": 0.9, "best": True},
        group="sweep-a",
        job_type="train",
        runtime=3600.0,
        heartbeat_at=T0,
    )
    run(
        "r2",
        bob,
        1,
        name="resnet18-try",
        state="failed",
        tags=["cifar"],
        config={"lr": 0.1, "opt": "sgd", "model": {"depth": 18}},
        summary={"val/acc": 0.41, "loss": "NaN", "best": False},
        group="sweep-a",
        job_type="eval",
        runtime=60.0,
    )
    run(
        "r3",
        alice,
        30,
        name="vgg16",
        state="crashed",
        tags=[],
        config={"lr": "0.001", "opt": "adamw"},
        summary={"val/acc": "high", "loss": None},
        job_type="train",
    )
    run("r4", None, 48, name="", state="running", config={}, summary={})
    run(
        "r5",
        bob,
        50,
        name="ResNet101",
        state="finished",
        tags=["baseline"],
        config={"lr": 0.001, "opt": "adam", "model": {"depth": 101}},
        summary={"val/acc": 0.97, "loss": 0.1},
        runtime=7200.0,
    )
    return project


PAIRS = [
    ("summary.val/acc >= 0.9", {"summary_metrics.val/acc": {"$gte": 0.9}}),
    ("summary.val/acc < 0.9", {"summary_metrics.val/acc": {"$lt": 0.9}}),
    ("config.lr <= 0.01", {"config.lr": {"$lte": 0.01}}),
    ("config.lr > 0.01", {"config.lr.value": {"$gt": 0.01}}),
    ("config.lr = 0.1", {"config.lr": 0.1}),
    ('config.lr = "0.001"', {"config.lr": "0.001"}),
    ("config.opt = adam", {"config.opt": "adam"}),
    ("config.opt != adam", {"config.opt": {"$ne": "adam"}}),
    ("config.model.depth >= 50", {"config.model.depth": {"$gte": 50}}),
    ("config.`data set` = cifar", {"config.data set": "cifar"}),
    ("summary.`val acc` exists", {"summary_metrics.val acc": {"$exists": True}}),
    ("summary.best = true", {"summary_metrics.best": True}),
    ("summary.best = false", {"summary_metrics.best": False}),
    ("summary.loss = null", {"summary_metrics.loss": None}),
    ("summary.loss = NaN", {"summary_metrics.loss": "NaN"}),
    ("summary.loss exists", {"summary_metrics.loss": {"$exists": True}}),
    ("summary.loss not exists", {"summary_metrics.loss": {"$exists": False}}),
    ("config.opt in (adam, sgd)", {"config.opt": {"$in": ["adam", "sgd"]}}),
    ("config.opt not in (adam, sgd)", {"config.opt": {"$nin": ["adam", "sgd"]}}),
    (
        "summary.val/acc between 0.4 and 0.95",
        {"summary_metrics.val/acc": {"$gte": 0.4, "$lte": 0.95}},
    ),
    (
        "not summary.val/acc between 0.4 and 0.95",
        {"$nor": [{"summary_metrics.val/acc": {"$gte": 0.4, "$lte": 0.95}}]},
    ),
    ('name ~ "^resnet"', {"display_name": {"$regex": "^resnet"}}),
    ('name ~ "(?i)^resnet"', {"display_name": {"$regex": "^resnet", "$options": "i"}}),
    ('name !~ "^resnet"', {"display_name": {"$not": {"$regex": "^resnet"}}}),
    ("config.opt ~ ^adam", {"config.opt": {"$regex": "^adam"}}),
    ('tags has "baseline"', {"tags": "baseline"}),
    ("not tags has baseline", {"tags": {"$ne": "baseline"}}),
    ("tags in (baseline, cifar)", {"tags": {"$in": ["baseline", "cifar"]}}),
    ("tags not in (baseline)", {"tags": {"$nin": ["baseline"]}}),
    ("state = failed", {"state": "failed"}),
    ("state != finished", {"state": {"$ne": "finished"}}),
    ("state in (failed, crashed)", {"state": {"$in": ["failed", "crashed"]}}),
    ("author = alice", {"username": "alice"}),
    ("author not exists", {"username": {"$exists": False}}),
    ("group = sweep-a", {"group": "sweep-a"}),
    ('"job type" = train', {"jobType": "train"}),
    ("job_type != train", {"jobType": {"$ne": "train"}}),
    ("run_id in (r1, r5)", {"name": {"$in": ["r1", "r5"]}}),
    ("created > 2026-11-01", {"createdAt": {"$gt": "2026-11-01T00:00:00"}}),
    (
        "created between 2026-11-01 and 2026-11-02T12:00",
        {"createdAt": {"$gte": "2026-11-01", "$lte": "2026-11-02T12:00:00Z"}},
    ),
    ("created < 2026-11-01T02:00:00+02:00", {"createdAt": {"$lt": "2026-11-01T00:00:00Z"}}),
    ("heartbeat exists", {"heartbeatAt": {"$exists": True}}),
    ("runtime >= 3600", {"runtime": {"$gte": 3600}}),
    ("runtime = null", {"duration": None}),
    (
        "state = finished and config.lr <= 0.01",
        {"$and": [{"state": "finished"}, {"config.lr": {"$lte": 0.01}}]},
    ),
    (
        "state = failed or tags has baseline and summary.val/acc > 0.95",
        {
            "$or": [
                {"state": "failed"},
                {"tags": "baseline", "summary_metrics.val/acc": {"$gt": 0.95}},
            ]
        },
    ),
    (
        "(state = failed or tags has baseline) and summary.val/acc > 0.95",
        {
            "$and": [
                {"$or": [{"state": "failed"}, {"tags": "baseline"}]},
                {"summary_metrics.val/acc": {"$gt": 0.95}},
            ]
        },
    ),
    ("not config.lr < 0.05", {"$not": {"config.lr": {"$lt": 0.05}}}),
    (
        'summary.val/acc >= 0.9 and config.lr <= 0.01 and (tags has "baseline" or state = failed)'
        ' and name ~ "^resnet" and created > 2026-10-01',
        {
            "summary_metrics.val/acc": {"$gte": 0.9},
            "config.lr": {"$lte": 0.01},
            "$or": [{"tags": "baseline"}, {"state": "failed"}],
            "display_name": {"$regex": "^resnet"},
            "createdAt": {"$gt": "2026-10-01"},
        },
    ),
]


def matching(project, node):
    runs = Run.objects.filter(project=project).filter(to_q(node))
    return sorted(runs.values_list("run_id", flat=True))


@pytest.mark.parametrize(("text", "filters"), PAIRS, ids=[text for text, _ in PAIRS])
def test_text_query_and_mongo_filters_select_the_same_runs(project, text, filters):
    assert matching(project, parse_text(text)) == matching(project, from_mongo(filters))


def test_the_pairs_tell_runs_apart(project):
    # Equal answers prove little if every pair selects all runs or none.
    everyone = sorted(Run.objects.filter(project=project).values_list("run_id", flat=True))
    selections = {tuple(matching(project, parse_text(text))) for text, _ in PAIRS}
    assert len(selections) > 15
    assert all(selection != tuple(everyone) for selection in selections if len(selection) > 4)


def test_plain_text_selects_what_the_search_box_did(project):
    assert matching(project, parse_text("resnet")) == ["r1", "r2", "r5"]
    assert matching(project, parse_text("R4")) == ["r4"]
    assert matching(project, parse_text('"net10"')) == ["r5"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("(?i)^RESNET", ["r1", "r2", "r5"]),
        ("(?<=res)net1", ["r2"]),
        ("^(?:vgg|resnet50)", ["r1", "r3"]),
        ("net(?!1)", ["r1"]),
        ("\\d{3}$", ["r5"]),
    ],
)
def test_regular_expressions_run_alike_on_every_database(project, pattern, expected):
    assert matching(project, parse_text(f'name ~ "{pattern}"')) == expected


@pytest.mark.parametrize("pattern", ["(?P<n>a)", "(?>a)", "(?i:a)", "a(?i)", "(?a)x", "(?#c)"])
def test_regular_expressions_one_database_cannot_run_are_refused(pattern):
    with pytest.raises(QueryError, match=r"Regular expressions support|Invalid regular"):
        parse_text(f'name ~ "{pattern}"')
