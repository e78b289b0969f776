"""RunKey: each key's counts and step range, kept by ingestion, so that historyKeys and the
scan_history pages never scan a run's points. The counts must match the points whatever arrives:
more rows, replayed or overlapping chunks, rich values, a run moved or deleted."""

import importlib
import json

import pytest
from django.apps import apps
from django.db.models import Count
from django.utils import timezone

from runs import services, trash
from runs.history import all_steps, first_step, history_keys, history_page, sampled_history
from runs.ingest import EVENTS_FILE, HISTORY_FILE, apply_file_stream, parse_file_stream
from runs.models import MetricKey, Point, RichValue, Run, RunKey
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def run(project, alice):
    return RunFactory(
        project=project, author=alice, state=Run.State.RUNNING, heartbeat_at=timezone.now()
    )


def log(run, rows, offset=0, file=HISTORY_FILE):
    content = [json.dumps(row) for row in rows]
    apply_file_stream(
        run, parse_file_stream({"files": {file: {"offset": offset, "content": content}}})
    )
    run.refresh_from_db()


def rows(first, last):
    """Steps first..last-1: loss at each, a text at every 4th."""
    return [
        {"_step": step, "loss": step / 10, **({"note": f"n{step}"} if step % 4 == 0 else {})}
        for step in range(first, last)
    ]


def kept(run):
    """RunKey as stored: {name: (points, rich, first step, last step)}."""
    return {
        name: tuple(values)
        for name, *values in RunKey.objects.filter(run=run).values_list(
            "key__name", "points", "rich", "first_step", "last_step"
        )
    }


def counted(run):
    """The same, counted from the points themselves."""
    found = {}
    for model, index in ((Point, 0), (RichValue, 1)):
        values = model.objects.filter(run=run).values_list("key__name").annotate(n=Count("*"))
        for name, n in values:
            found.setdefault(name, [0, 0])[index] = n
    for name, counts in found.items():
        steps = [
            step
            for model in (Point, RichValue)
            for step in model.objects.filter(run=run, key__name=name).values_list("step", flat=True)
        ]
        found[name] = (*counts, min(steps), max(steps))
    return found


def test_counts_grow_as_rows_arrive(run):
    log(run, rows(0, 10))
    assert kept(run) == {"loss": (10, 0, 0, 9), "note": (0, 3, 0, 8)}

    log(run, rows(10, 25), offset=10)

    assert kept(run) == {"loss": (25, 0, 0, 24), "note": (0, 7, 0, 24)}
    assert kept(run) == counted(run)


def test_a_replayed_chunk_counts_nothing_twice(run):
    log(run, rows(0, 10))
    log(run, rows(0, 10))  # the same lines again (a client retrying)
    log(run, rows(5, 15), offset=5)  # overlapping: only steps 10-14 are new

    assert kept(run) == {"loss": (15, 0, 0, 14), "note": (0, 4, 0, 12)}
    assert kept(run) == counted(run)
    assert history_keys(run)["keys"]["loss"] == {"typeCounts": [{"type": "number", "count": 15}]}


def test_steps_logged_out_of_order_widen_the_range_both_ways(run):
    log(run, rows(50, 60))
    log(run, [{"_step": 3, "loss": 1.0}, {"_step": 70, "loss": 2.0}], offset=10)

    assert kept(run)["loss"] == (12, 0, 3, 70)
    assert first_step(run) == 3
    assert history_keys(run)["lastStep"] == 70


def test_a_key_with_numbers_and_objects_counts_both(run):
    log(run, [{"_step": 0, "x": 1.0}, {"_step": 1, "x": "text"}, {"_step": 2, "x": None}])

    assert kept(run) == {"x": (1, 2, 0, 2)}
    assert history_keys(run)["keys"]["x"] == {
        "typeCounts": [{"type": "number", "count": 1}, {"type": "object", "count": 2}]
    }


def test_system_metrics_keys_are_kept_apart_from_history_keys(run):
    log(run, [{"system.cpu": 5.0}, {"system.cpu": 6.0}], file=EVENTS_FILE)
    log(run, rows(0, 2))

    assert kept(run)["system.cpu"] == (2, 0, 0, 1)
    assert set(history_keys(run)["keys"]) == {"loss", "note", "_step"}
    assert RunKey.objects.get(run=run, key__name="system.cpu").key.stream == (
        MetricKey.Stream.EVENTS
    )


def test_keys_stay_with_a_moved_run(run, project, alice, team):
    log(run, rows(0, 10))
    before = history_keys(run)
    target = ProjectFactory(entity=team, creator=alice, name="bert")

    services.runs_move(
        actor=alice, source=project, runs=Run.objects.filter(pk=run.pk), target=target
    )

    run.refresh_from_db()
    assert run.project == target
    assert history_keys(run) == before


def test_purging_a_run_deletes_its_keys_only(run, project, alice):
    other = RunFactory(project=project, author=alice)
    log(run, rows(0, 10))
    log(other, rows(0, 3))

    services.runs_delete(actor=alice, project=project, runs=Run.objects.filter(pk=run.pk))
    assert RunKey.objects.filter(run_id=run.pk).exists()  # kept while it is in the trash
    trash.runs_delete_forever(actor=alice, project=project, runs=trash.in_trash(project))

    assert not RunKey.objects.filter(run_id=run.pk).exists()
    assert kept(other) == {"loss": (3, 0, 0, 2), "note": (0, 1, 0, 0)}


def test_history_keys_cost_one_query_however_long_the_run(run, django_assert_num_queries):
    log(run, rows(0, 500))

    with django_assert_num_queries(1):
        keys = history_keys(run)

    assert keys["lastStep"] == 499
    assert keys["keys"]["loss"] == {"typeCounts": [{"type": "number", "count": 500}]}


def test_a_page_costs_one_query_per_key_and_kind(run, django_assert_num_queries):
    log(run, rows(0, 100))

    # The keys, then a range scan each: loss (numbers), note (objects).
    with django_assert_num_queries(3):
        page = history_page(run, min_step=10, max_step=20, limit=10)
    with django_assert_num_queries(2):
        sampled = sampled_history(run, ["loss", "_step"], 10, min_step=10, max_step=20)

    assert [row["_step"] for row in page] == list(range(10, 20))
    assert page[2] == {"loss": 1.2, "note": "n12", "_step": 12}
    assert sampled == [{"loss": step / 10, "_step": step} for step in range(10, 20)]


def test_the_migration_counts_the_runs_logged_before_it(run, project, alice):
    other = RunFactory(project=project, author=alice)
    log(run, rows(0, 30))
    log(run, [{"system.gpu": 1.0}], file=EVENTS_FILE)
    log(other, rows(7, 9))
    expected = {run.pk: kept(run), other.pk: kept(other)}
    RunKey.objects.all().delete()

    importlib.import_module("runs.migrations.0007_run_keys").count_keys(apps, None)

    assert {run.pk: kept(run), other.pk: kept(other)} == expected


def steps_in_points(run, keys=None, min_step=None, max_step=None):
    steps = set()
    for model in (Point, RichValue):
        values = model.objects.filter(run=run, key__stream=MetricKey.Stream.HISTORY)
        if keys is not None:
            values = values.filter(key__name__in=keys)
        steps.update(values.values_list("step", flat=True))
    return sorted(
        step
        for step in steps
        if (min_step is None or step >= min_step) and (max_step is None or step < max_step)
    )


@pytest.mark.parametrize(
    "logged",
    [
        rows(0, 40),  # loss at every step: the steps are a range, read from RunKey
        rows(5, 45),
        [{"_step": 2 * i, "loss": 1.0} for i in range(20)],  # gaps: read from the points
        [{"_step": i, "x": 1.0 if i % 2 else "t"} for i in range(20)],  # numbers and objects
        [],
    ],
)
def test_all_steps_are_the_steps_with_a_value(run, logged):
    log(run, logged)

    for keys in (None, ["loss"], ["note"], ["x"], ["missing"]):
        for min_step, max_step in ((None, None), (7, None), (None, 30), (10, 12), (50, 60)):
            assert all_steps(
                run, MetricKey.Stream.HISTORY, keys=keys, min_step=min_step, max_step=max_step
            ) == steps_in_points(run, keys, min_step, max_step)


def test_steps_of_a_run_logged_at_every_step_cost_one_query(run, django_assert_num_queries):
    log(run, rows(0, 300))

    with django_assert_num_queries(1):
        steps = all_steps(run, MetricKey.Stream.HISTORY)

    assert steps == list(range(300))
