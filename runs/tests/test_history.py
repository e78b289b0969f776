"""Reading a run's history and system metrics back (runs/history.py), as the client logged them."""

import json
import math

import pytest
from django.utils import timezone

from runs.history import (
    history,
    history_keys,
    history_page,
    history_page_lines,
    latest_system_metrics,
    sample,
    sampled_history,
)
from runs.ingest import EVENTS_FILE, HISTORY_FILE, apply_file_stream, parse_file_stream
from runs.models import MetricKey, Run
from tests.factories import ProjectFactory, RunFactory

STEPS = 50


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def make_run(project, alice):
    def make():
        return RunFactory(
            project=project, author=alice, state=Run.State.RUNNING, heartbeat_at=timezone.now()
        )

    return make


@pytest.fixture
def run(make_run):
    return make_run()


def log(run, rows, offset=0, file=HISTORY_FILE):
    content = [json.dumps(row) for row in rows]
    apply_file_stream(
        run, parse_file_stream({"files": {file: {"offset": offset, "content": content}}})
    )
    run.refresh_from_db()


def logged_rows():
    """Every step has loss; every 5th has acc; every 10th a text; steps go by 2."""
    rows = []
    for i in range(STEPS):
        row = {"_step": 2 * i, "loss": 1 / (i + 1), "_runtime": i * 1.5}
        if i % 5 == 0:
            row["acc"] = i / STEPS
        if i % 10 == 0:
            row["note"] = f"checkpoint {i}"
        rows.append(row)
    return rows


@pytest.fixture
def logged(run):
    rows = logged_rows()
    log(run, rows[:20])
    log(run, rows[20:], offset=20)
    return rows


def floats(row):
    """A logged row as read back: numbers come back as floats."""
    return {
        key: float(value) if isinstance(value, int) and key != "_step" else value
        for key, value in row.items()
    }


def test_history_returns_every_row_as_logged(run, logged):
    assert history(run) == [floats(row) for row in logged]


@pytest.mark.parametrize("samples", [1, 2, 3, 7, 10, 49])
def test_sampled_history_keeps_at_most_n_rows_with_the_last_step(run, logged, samples):
    rows = history(run, samples=samples)

    assert 0 < len(rows) <= samples
    by_step = {row["_step"]: floats(row) for row in logged}
    for row in rows:
        assert row == by_step[row["_step"]]
    steps = [row["_step"] for row in rows]
    assert steps == sorted(set(steps))
    assert steps[-1] == 2 * (STEPS - 1)
    if samples > 1:
        assert steps[0] == 0
        assert len(rows) == samples  # 50 distinct steps are enough to fill any of these


def test_more_samples_than_rows_gives_every_row(run, logged):
    assert history(run, samples=1000) == history(run)
    assert history(run, samples=0) == []


def test_sample_spreads_steps_evenly():
    steps = list(range(0, 110, 10))
    assert sample(steps, 3) == [0, 50, 100]
    assert sample(steps, 5) == [0, 20, 50, 80, 100]
    assert sample(steps, 2) == [0, 100]
    assert sample(steps, 1) == [100]
    assert sample(steps, 11) == sample(steps, 50) == steps
    assert sample(steps, 0) == sample(steps, -1) == []
    assert sample([], 5) == []


def test_history_of_a_run_without_rows_is_empty(run):
    assert history(run) == []
    assert history(run, samples=10) == []
    assert history_page(run, min_step=0, max_step=100, limit=10) == []


def test_history_reads_back_nan_and_rich_values(run):
    histogram = {"_type": "histogram", "values": [1, 2], "bins": [0, 1, 2]}
    log(run, [{"_step": 0, "loss": math.nan, "h": histogram, "big": 2**60}])

    (row,) = history(run)
    assert math.isnan(row.pop("loss"))
    assert row == {"_step": 0, "h": histogram, "big": 2**60}


# history_page (scan_history)


def test_history_page_is_min_inclusive_max_exclusive(run, logged):
    rows = history_page(run, min_step=10, max_step=20, limit=100)

    assert [row["_step"] for row in rows] == [10, 12, 14, 16, 18]
    assert rows == [floats(row) for row in logged if 10 <= row["_step"] < 20]


def test_history_page_limit_keeps_the_first_rows(run, logged):
    rows = history_page(run, min_step=7, max_step=10_000, limit=3)

    assert [row["_step"] for row in rows] == [8, 10, 12]
    assert history_page(run, min_step=0, max_step=10_000, limit=0) == []
    assert history_page(run, min_step=0, max_step=10_000, limit=-5) == []


def test_history_pages_cover_the_history_once(run, logged):
    rows, start = [], 0
    while page := history_page(run, min_step=start, max_step=10_000, limit=7):
        rows += page
        start = page[-1]["_step"] + 1

    assert rows == history(run)


def test_history_page_with_keys_reads_only_those(run, logged):
    rows = history_page(run, min_step=0, max_step=30, limit=100, keys=["acc", "_step"])

    assert rows == [{"_step": 0, "acc": 0.0}, {"_step": 10, "acc": 0.1}, {"_step": 20, "acc": 0.2}]


# sampled_history


def test_sampled_history_has_only_the_requested_keys(run, logged):
    rows = sampled_history(run, ["acc"], samples=100)

    assert rows == [{"acc": i / STEPS} for i in range(0, STEPS, 5)]


def test_sampled_history_keeps_step_when_asked(run, logged):
    rows = sampled_history(run, ["note", "_step"], samples=3)

    assert rows == [
        {"_step": 0, "note": "checkpoint 0"},
        {"_step": 40, "note": "checkpoint 20"},
        {"_step": 80, "note": "checkpoint 40"},
    ]


def test_sampled_history_of_several_keys_has_rows_where_any_is_set(run, logged):
    rows = sampled_history(run, ["acc", "note", "_step"], samples=100)

    assert [row["_step"] for row in rows] == list(range(0, 2 * STEPS, 10))
    assert rows[1] == {"_step": 10, "acc": 0.1}
    assert rows[2] == {"_step": 20, "acc": 0.2, "note": "checkpoint 10"}


def test_sampled_history_of_an_unknown_key_is_empty(run, logged):
    assert sampled_history(run, ["nope"], samples=10) == []


def test_sampled_history_reads_one_run_only(make_run, logged, run):
    other = make_run()
    log(other, [{"_step": 1, "acc": 9.0}])

    assert sampled_history(other, ["acc", "_step"], samples=10) == [{"_step": 1, "acc": 9.0}]
    assert len(sampled_history(run, ["acc"], samples=100)) == STEPS // 5


# history_keys


def test_history_keys_counts_values_by_type(run, logged):
    log(run, [{"_step": 200, "note": 3}], offset=STEPS)  # a number where there was text

    assert history_keys(run) == {
        "lastStep": 200,
        "keys": {
            "loss": {"typeCounts": [{"type": "number", "count": STEPS}]},
            "_runtime": {"typeCounts": [{"type": "number", "count": STEPS}]},
            "acc": {"typeCounts": [{"type": "number", "count": STEPS // 5}]},
            "note": {
                "typeCounts": [
                    {"type": "number", "count": 1},
                    {"type": "object", "count": STEPS // 10},
                ]
            },
            "_step": {"typeCounts": [{"type": "number", "count": STEPS + 1}]},
        },
    }


def test_history_keys_of_a_run_without_history(run):
    log(run, [{"system.cpu": 5.0}], file=EVENTS_FILE)  # system metrics are not history keys

    assert history_keys(run) == {"lastStep": -1, "keys": {}}


def test_history_keys_last_step_can_be_a_rich_value(run):
    log(run, [{"_step": 3, "loss": 1.0}, {"_step": 9, "table": {"_type": "table-file"}}])

    assert history_keys(run)["lastStep"] == 9


# System metrics


def test_latest_system_metrics_is_the_last_events_line(run):
    log(
        run, [{"system.cpu": float(i), "system.mem": 100.0 + i} for i in range(4)], file=EVENTS_FILE
    )

    assert latest_system_metrics(run) == {"system.cpu": 3.0, "system.mem": 103.0}
    assert history(run, stream=MetricKey.Stream.EVENTS)[0] == {
        "system.cpu": 0.0,
        "system.mem": 100.0,
    }


def test_latest_system_metrics_follows_new_lines(run):
    log(run, [{"system.cpu": 1.0}], file=EVENTS_FILE)
    log(run, [{"system.cpu": 2.0, "system.gpu.0.temp": 60}], offset=1, file=EVENTS_FILE)

    assert latest_system_metrics(run) == {"system.cpu": 2.0, "system.gpu.0.temp": 60.0}


def test_latest_system_metrics_of_a_run_without_any(run, logged):
    assert latest_system_metrics(run) == {}


def test_history_page_reads_only_what_the_run_has_in_the_range(run, make_run):
    other = make_run()
    log(other, [{"_step": step, "loss": 9.0} for step in range(10)])
    log(run, [{"_step": step, "loss": step / 10, "tag": f"t{step}"} for step in range(10)])

    rows = history_page(run, min_step=3, max_step=6, limit=100)

    assert rows == [{"_step": s, "loss": s / 10, "tag": f"t{s}"} for s in (3, 4, 5)]


def test_history_pages_of_a_sparse_run_return_every_row_once_in_order(run):
    """Keys logged at different steps, a NaN and a text: pages by step range, as the client
    scans, see each row once, complete, in step order."""
    rows = []
    for step in range(0, 300, 3):
        row = {"_step": step, "loss": step / 1000}
        if step % 2:
            row["acc"] = float("nan") if step == 9 else step / 300
        if step % 5 == 0:
            row["note"] = f"n{step}"
        rows.append(row)
    log(run, rows)

    scanned = []
    for start in range(0, 300, 40):
        scanned += history_page(run, min_step=start, max_step=start + 40, limit=40)

    assert [row["_step"] for row in scanned] == list(range(0, 300, 3))
    assert math.isnan(scanned[3]["acc"])
    scanned[3]["acc"] = rows[3]["acc"] = None
    assert scanned == rows


def test_sampled_history_with_a_step_range_reads_that_range(run):
    log(run, [{"_step": step, "loss": step / 10} for step in range(10)])

    pages = [sampled_history(run, ["loss", "_step"], 2, min_step=s, max_step=s + 2) for s in (0, 2)]

    assert pages == [
        [{"_step": 0, "loss": 0.0}, {"_step": 1, "loss": 0.1}],
        [{"_step": 2, "loss": 0.2}, {"_step": 3, "loss": 0.3}],
    ]
    # A range holding more rows than `samples` is sampled, first and last kept.
    sampled = sampled_history(run, ["loss"], 3, min_step=0, max_step=10)
    assert sampled == [{"loss": 0.0}, {"loss": 0.4}, {"loss": 0.9}]


# history_page_lines: the `history` answer of a scan_history page without keys


@pytest.mark.parametrize(
    "rows",
    [
        # numbers at every step: the %-format path
        [{"_step": s, "loss": 1 / (s + 1), "100%": s * 1e300, "é": -0.0} for s in range(5)],
        # a NaN, an infinity, text, or keys at different steps: json.dumps of each row
        [{"_step": s, "loss": math.nan if s == 2 else float(s)} for s in range(5)],
        [{"_step": s, "loss": math.inf if s == 2 else float(s)} for s in range(5)],
        [{"_step": s, "loss": 1.5, "note": "hi"} for s in range(5)],
        [{"_step": s, "loss": 0.5, **({"acc": 1.0} if s % 2 else {})} for s in range(5)],
        # huge values whose sum overflows: still written as json.dumps would
        [{"_step": s, "big": 1.7e308} for s in range(5)],
    ],
)
def test_history_page_lines_are_the_rows_as_json_dumps_writes_them(run, rows):
    log(run, rows)

    lines = history_page_lines(run, min_step=1, max_step=5, limit=3)

    assert lines == [json.dumps(row) for row in history_page(run, min_step=1, max_step=5, limit=3)]
    assert [json.loads(line)["_step"] for line in lines] == [1, 2, 3]
    assert history_page_lines(run, min_step=0, max_step=5, limit=0) == []
