"""What a running client streams (runs/ingest.py): parsing a file_stream body and writing it.

History rows become points keyed (run, key, step); other values are kept as their JSON; system
metrics are keyed by line number; console lines by offset + i. A replayed, overlapping or
out-of-order chunk ends in the state the in-order ones give. Bad input is refused as a whole.
"""

import json
import math
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from runs.history import history
from runs.ingest import (
    CONSOLE_FILE,
    EVENTS_FILE,
    HISTORY_FILE,
    SUMMARY_FILE,
    IngestError,
    apply_file_stream,
    intern_keys,
    parse_file_stream,
)
from runs.models import ConsoleLine, MetricKey, Point, PointTile, RichValue, Run
from runs.services import runs_mark_crashed
from tests.factories import ProjectFactory, RunFactory

NAN = "<NaN>"


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def make_run(project, alice):
    def make(**fields):
        fields.setdefault("state", Run.State.RUNNING)
        fields.setdefault("heartbeat_at", timezone.now())
        return RunFactory(project=project, author=alice, **fields)

    return make


@pytest.fixture
def run(make_run):
    return make_run()


def chunk(rows, offset=0):
    return {"offset": offset, "content": [r if isinstance(r, str) else json.dumps(r) for r in rows]}


def body(history=None, events=None, summary=None, console=None, **extra):
    """A file_stream body; each file is (rows, offset) or a list of rows at offset 0."""
    files = {}
    for name, value in (
        (HISTORY_FILE, history),
        (EVENTS_FILE, events),
        (SUMMARY_FILE, summary),
        (CONSOLE_FILE, console),
    ):
        if value is None:
            continue
        rows, offset = value if isinstance(value, tuple) else (value, 0)
        files[name] = chunk(rows, offset)
    return {"files": files, **extra}


def ingest(run, payload):
    apply_file_stream(run, parse_file_stream(payload))
    run.refresh_from_db()
    return run


def history_rows(start, stop):
    return [
        {"_step": step, "loss": 1 / (step + 1), "acc": step / 100, "_runtime": step * 0.5}
        for step in range(start, stop)
    ]


def plain(value):
    """`value` with NaN replaced by a marker, so rows holding NaN compare equal."""
    if isinstance(value, float) and math.isnan(value):
        return NAN
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def state(run):
    """Everything a file_stream request can change, but the heartbeat time."""
    run.refresh_from_db()
    return plain(
        {
            "history": history(run),
            "events": history(run, stream=MetricKey.Stream.EVENTS),
            "points": sorted(
                Point.objects.filter(run=run).values_list("key__stream", "key__name", "step")
            ),
            "rich": sorted(
                RichValue.objects.filter(run=run).values_list("key__stream", "key__name", "step")
            ),
            "console": list(
                ConsoleLine.objects.filter(run=run).order_by("line").values_list("line", "text")
            ),
            "summary": run.summary,
            "run": {
                field: getattr(run, field)
                for field in (
                    "state",
                    "exit_code",
                    "finished_at",
                    "runtime",
                    "history_line_count",
                    "events_line_count",
                    "console_line_count",
                )
            },
        }
    )


def stored_rows():
    return (
        Point.objects.count(),
        RichValue.objects.count(),
        ConsoleLine.objects.count(),
        MetricKey.objects.count(),
    )


# History


def test_history_rows_become_points_keyed_by_run_key_and_step(run):
    ingest(run, body(history=[{"_step": 0, "loss": 0.5}, {"_step": 7, "loss": 0.25, "acc": 1}]))

    points = Point.objects.filter(run=run, key__stream=MetricKey.Stream.HISTORY)
    assert sorted(points.values_list("key__name", "step", "value")) == [
        ("acc", 7, 1.0),
        ("loss", 0, 0.5),
        ("loss", 7, 0.25),
    ]
    # `_step` is the row's identity, not a metric of its own.
    assert not MetricKey.objects.filter(name="_step").exists()
    assert history(run) == [{"_step": 0, "loss": 0.5}, {"_step": 7, "loss": 0.25, "acc": 1.0}]
    assert run.history_line_count == 2


def test_a_row_without_step_is_keyed_by_its_line_number(run):
    ingest(run, body(history=([{"loss": 0.5}, {"loss": 0.4}], 10)))

    assert history(run) == [{"_step": 10, "loss": 0.5}, {"_step": 11, "loss": 0.4}]
    assert run.history_line_count == 12


def test_points_of_different_runs_do_not_mix(make_run):
    first, second = make_run(), make_run()
    ingest(first, body(history=[{"_step": 0, "loss": 1.0}]))
    ingest(second, body(history=[{"_step": 0, "loss": 2.0}]))

    assert history(first) == [{"_step": 0, "loss": 1.0}]
    assert history(second) == [{"_step": 0, "loss": 2.0}]
    assert MetricKey.objects.filter(name="loss").count() == 1


RICH_VALUES = {
    "text": "a sentence, not a number",
    "flag": True,
    "off": False,
    "histogram": {
        "_type": "histogram",
        "values": [1, 4, 9, 2],
        "bins": [0.0, 0.25, 0.5, 0.75, 1.0],
    },
    "image": {"_type": "image-file", "path": "media/images/x_3_abc.png", "width": 8, "height": 8},
    "list": [1, "two", 3.5, None],
    "big": 2**53 + 1,
    "very_big": 2**70 + 3,
    "negative_big": -(2**53) - 1,
}


def test_values_that_are_not_numbers_are_kept_exactly(run):
    ingest(run, body(history=[{"_step": 3, "loss": 0.1, **RICH_VALUES}]))

    stored = dict(RichValue.objects.filter(run=run, step=3).values_list("key__name", "value"))
    assert stored == RICH_VALUES
    assert type(stored["flag"]) is bool and type(stored["big"]) is int
    assert stored["big"] == 2**53 + 1  # a float would have made it 2**53
    assert list(Point.objects.filter(run=run).values_list("key__name", flat=True)) == ["loss"]
    assert history(run) == [{"_step": 3, "loss": 0.1, **RICH_VALUES}]


def test_a_null_value_is_kept(run):
    ingest(run, body(history=[{"_step": 0, "loss": None, "acc": 0.5}]))

    assert history(run) == [{"_step": 0, "loss": None, "acc": 0.5}]


def test_the_largest_exact_integer_is_a_number(run):
    ingest(run, body(history=[{"_step": 0, "n": 2**53, "m": -(2**53)}]))

    assert dict(Point.objects.filter(run=run).values_list("key__name", "value")) == {
        "n": float(2**53),
        "m": -float(2**53),
    }
    assert not RichValue.objects.exists()


def test_nan_is_stored_and_read_back_as_nan(run):
    ingest(run, body(history=['{"_step": 0, "loss": NaN, "acc": 0.5}', '{"_step": 1, "loss": 1}']))

    assert Point.objects.filter(run=run, key__name="loss", step=0).exists()
    rows = history(run)
    assert len(rows) == 2
    assert math.isnan(rows[0]["loss"]) and rows[0]["acc"] == 0.5
    assert rows[1] == {"_step": 1, "loss": 1.0}


def test_infinities_are_numbers(run):
    ingest(run, body(history=['{"_step": 0, "up": Infinity, "down": -Infinity}']))

    assert history(run) == [{"_step": 0, "up": math.inf, "down": -math.inf}]


def test_runtime_is_the_largest_seen(run):
    ingest(run, body(history=history_rows(0, 5)))
    assert run.runtime == 2.0
    ingest(run, body(history=(history_rows(1, 2), 1)))  # an old row again
    assert run.runtime == 2.0


# System metrics


def test_events_are_keyed_by_line_number(run):
    events = [
        {"system.cpu": 12.5, "system.gpu.0.gpu": 80, "_runtime": 10, "_timestamp": 1.7e9},
        {"system.cpu": 14.0, "system.gpu.0.gpu": 82, "_runtime": 40, "_timestamp": 1.7e9 + 30},
    ]
    ingest(run, body(events=(events, 4)))

    points = Point.objects.filter(run=run, key__stream=MetricKey.Stream.EVENTS)
    assert sorted(points.filter(key__name="system.cpu").values_list("step", "value")) == [
        (4, 12.5),
        (5, 14.0),
    ]
    assert run.events_line_count == 6
    # Events are not history.
    assert history(run) == []
    assert history(run, stream=MetricKey.Stream.EVENTS) == [
        {key: float(value) for key, value in row.items()} for row in events
    ]
    assert MetricKey.objects.get(name="system.cpu").stream == MetricKey.Stream.EVENTS


def test_an_events_line_with_a_step_key_is_still_keyed_by_line_number(run):
    ingest(run, body(events=([{"_step": 99, "system.cpu": 1.0}], 2)))

    assert Point.objects.get(run=run, key__name="system.cpu").step == 2


def test_the_same_name_in_history_and_events_are_two_keys(run):
    ingest(run, body(history=[{"_step": 0, "_runtime": 1.0}], events=[{"_runtime": 2.0}]))

    assert MetricKey.objects.filter(name="_runtime").count() == 2
    assert history(run) == [{"_step": 0, "_runtime": 1.0}]
    assert history(run, stream=MetricKey.Stream.EVENTS) == [{"_runtime": 2.0}]


def test_intern_keys_creates_only_the_missing_ones(db):
    first = intern_keys(MetricKey.Stream.HISTORY, ["a", "b"])
    second = intern_keys(MetricKey.Stream.HISTORY, ["b", "c"])

    assert second["b"] == first["b"]
    assert set(second) == {"b", "c"}
    assert MetricKey.objects.count() == 3
    assert intern_keys(MetricKey.Stream.EVENTS, ["a"])["a"] != first["a"]


# Replays, overlaps, order


def full_chunks():
    return [
        body(
            history=(history_rows(0, 5), 0),
            events=([{"system.cpu": 1.0}, {"system.cpu": 2.0}], 0),
            console=(["line 0", "line 1"], 0),
            summary=[{"_step": 4, "_runtime": 2.0, "loss": 0.2}],
        ),
        body(
            history=([*history_rows(5, 10), {"_step": 10, "note": "done"}], 5),
            events=([{"system.cpu": 3.0}], 2),
            console=(["line 2", "line 3", "line 4"], 2),
            summary=[{"_step": 10, "_runtime": 5.0, "loss": 0.1}],
        ),
    ]


def test_a_replayed_chunk_changes_nothing(run):
    first, second = full_chunks()
    ingest(run, first)
    ingest(run, second)
    before, rows = state(run), stored_rows()

    ingest(run, second)
    ingest(run, first)

    assert stored_rows() == rows
    assert state(run) == before
    assert before["run"]["history_line_count"] == 11
    assert len(before["history"]) == 11


def test_a_replayed_line_keeps_the_first_value(run):
    ingest(run, body(history=[{"_step": 0, "loss": 1.0, "tag": "a"}]))
    ingest(run, body(history=[{"_step": 0, "loss": 2.0, "tag": "b"}]))

    assert history(run) == [{"_step": 0, "loss": 1.0, "tag": "a"}]


def test_overlapping_and_out_of_order_chunks_end_like_in_order_ones(make_run):
    in_order, reversed_order, overlapping = make_run(), make_run(), make_run()
    first, second = full_chunks()
    ingest(in_order, first)
    ingest(in_order, second)

    ingest(reversed_order, second)
    ingest(reversed_order, first)

    ingest(overlapping, first)
    ingest(
        overlapping,
        body(
            history=(history_rows(3, 8), 3),
            events=([{"system.cpu": 2.0}], 1),
            console=(["line 1", "line 2", "line 3"], 1),
        ),
    )
    ingest(overlapping, second)

    expected = state(in_order)
    assert state(reversed_order) == expected
    assert state(overlapping) == expected
    assert expected["run"] | {"runtime": None} == {
        "state": Run.State.RUNNING,
        "exit_code": None,
        "finished_at": None,
        "runtime": None,
        "history_line_count": 11,
        "events_line_count": 3,
        "console_line_count": 5,
    }
    assert expected["run"]["runtime"] == 5.0
    assert expected["summary"] == {"_step": 10, "_runtime": 5.0, "loss": 0.1}
    assert [row["_step"] for row in expected["history"]] == list(range(11))


def test_line_counts_take_the_largest(run):
    ingest(run, body(history=(history_rows(0, 3), 20), events=([{"a": 1}], 7), console=(["x"], 9)))
    ingest(run, body(history=(history_rows(3, 4), 0), events=([{"a": 1}], 0), console=(["y"], 0)))

    assert (run.history_line_count, run.events_line_count, run.console_line_count) == (23, 8, 10)


def test_an_empty_chunk_keeps_the_counts(run):
    ingest(run, body(history=(history_rows(0, 3), 0), console=(["a"], 0)))
    ingest(run, body(history=([], 0), console=([], 0), events=([], 0)))

    assert (run.history_line_count, run.events_line_count, run.console_line_count) == (3, 0, 1)


# Console


def test_console_lines_are_stored_by_offset(run):
    ingest(run, body(console=(["2026-01-01T00:00:00 a", "2026-01-01T00:00:01 b"], 3)))

    assert list(ConsoleLine.objects.filter(run=run).values_list("line", "text")) == [
        (3, "a"),
        (4, "b"),
    ]
    assert run.console_line_count == 5


def test_a_rewritten_console_line_replaces_the_old_one(run):
    ingest(run, body(console=(["epoch 1", "progress 10%"], 0)))
    ingest(run, body(console=(["progress 60%"], 1)))
    ingest(run, body(console=(["progress 100%", "done"], 1)))

    assert list(ConsoleLine.objects.filter(run=run).order_by("line").values_list("text")) == [
        ("epoch 1",),
        ("progress 100%",),
        ("done",),
    ]
    assert run.console_line_count == 3


# Summary


def test_the_summary_is_replaced_by_the_last_line(run):
    ingest(run, body(summary=[{"_step": 1, "loss": 0.5}]))
    ingest(
        run,
        body(summary=[{"_step": 2, "loss": 0.4, "old": 1}, {"_step": 3, "loss": 0.3, "best": 0.3}]),
    )

    assert run.summary == {"_step": 3, "loss": 0.3, "best": 0.3}


def test_a_summary_set_after_the_last_step_replaces_the_one_of_that_step(run):
    ingest(run, body(summary=[{"_step": 5, "_runtime": 10, "loss": 0.5}]))
    ingest(run, body(summary=[{"_step": 5, "_runtime": 10, "loss": 0.5, "best": 0.4}]))

    assert run.summary["best"] == 0.4


@pytest.mark.parametrize(
    "older",
    [
        {"_step": 4, "_runtime": 30, "loss": 0.9},  # an earlier step
        {"_step": 5, "_runtime": 9.5, "loss": 0.9},  # the same step, earlier
        {"loss": 0.9},  # no position at all
    ],
)
def test_an_older_summary_arriving_late_does_not_replace_a_newer_one(run, older):
    newer = {"_step": 5, "_runtime": 10, "loss": 0.1}
    ingest(run, body(summary=[newer]))
    ingest(run, body(summary=[older], history=[{"_step": 1, "x": 1}]))

    assert run.summary == newer
    # The rest of the request is still written.
    assert history(run) == [{"_step": 1, "x": 1.0}]


# JSON columns cannot hold NaN or infinities: they are kept as W&B shows them, as strings.


def test_a_summary_with_nan_is_kept_as_the_string_nan(run):
    ingest(run, body(summary=['{"_step": 1, "loss": NaN, "top": Infinity, "best": 0.5}']))

    run.refresh_from_db()
    assert run.summary == {"_step": 1, "loss": "NaN", "top": "Infinity", "best": 0.5}


def test_a_rich_value_holding_nan_is_kept(run):
    line = '{"_step": 0, "hist": {"_type": "histogram", "values": [1, NaN], "bins": [0, 1, 2]}}'
    ingest(run, body(history=[line]))

    value = RichValue.objects.get(run=run).value
    assert value == {"_type": "histogram", "values": [1, "NaN"], "bins": [0, 1, 2]}


# The end of a run


def test_complete_with_exit_code_zero_finishes_the_run(run):
    before = timezone.now()
    ingest(run, body(complete=True, exitcode=0, uploaded=["wandb-metadata.json"]))

    assert run.state == Run.State.FINISHED
    assert run.exit_code == 0
    assert run.finished_at is not None and run.finished_at >= before


@pytest.mark.parametrize("code", [1, -9, 137])
def test_complete_with_a_non_zero_exit_code_fails_the_run(run, code):
    ingest(run, body(history=history_rows(0, 2), complete=True, exitcode=code))

    assert run.state == Run.State.FAILED
    assert run.exit_code == code
    assert run.finished_at is not None
    assert len(history(run)) == 2


def test_an_exit_code_without_complete_does_not_end_the_run(run):
    ingest(run, body(exitcode=1))

    assert run.state == Run.State.RUNNING
    assert run.finished_at is None and run.exit_code is None


def test_a_heartbeat_updates_only_the_heartbeat(make_run):
    run = make_run(heartbeat_at=timezone.now() - timedelta(minutes=5))
    before = state(run)
    old_heartbeat = run.heartbeat_at

    ingest(run, {})

    assert run.heartbeat_at > old_heartbeat
    assert state(run) == before


# Runs that went quiet


def test_runs_mark_crashed_marks_only_running_runs_past_the_timeout(make_run, settings):
    settings.RUN_HEARTBEAT_TIMEOUT = 600
    now = timezone.now()
    quiet = make_run(heartbeat_at=now - timedelta(seconds=601))
    recent = make_run(heartbeat_at=now - timedelta(seconds=599))
    at_the_limit = make_run(heartbeat_at=now - timedelta(seconds=600))
    finished = make_run(state=Run.State.FINISHED, heartbeat_at=now - timedelta(days=1))
    failed = make_run(state=Run.State.FAILED, heartbeat_at=now - timedelta(days=1))

    assert runs_mark_crashed(now=now) == 1

    states = {
        name: Run.objects.get(pk=run.pk).state
        for name, run in [
            ("quiet", quiet),
            ("recent", recent),
            ("at_the_limit", at_the_limit),
            ("finished", finished),
            ("failed", failed),
        ]
    }
    assert states == {
        "quiet": Run.State.CRASHED,
        "recent": Run.State.RUNNING,
        "at_the_limit": Run.State.RUNNING,
        "finished": Run.State.FINISHED,
        "failed": Run.State.FAILED,
    }
    assert runs_mark_crashed(now=now) == 0


def test_runs_mark_crashed_follows_the_timeout_setting(make_run, settings):
    run = make_run(heartbeat_at=timezone.now() - timedelta(seconds=120))
    settings.RUN_HEARTBEAT_TIMEOUT = 600
    assert runs_mark_crashed() == 0
    settings.RUN_HEARTBEAT_TIMEOUT = 60
    assert runs_mark_crashed() == 1
    run.refresh_from_db()
    assert run.state == Run.State.CRASHED


def test_a_crashed_run_that_streams_again_is_running(make_run):
    run = make_run(heartbeat_at=timezone.now() - timedelta(hours=1))
    runs_mark_crashed()
    run.refresh_from_db()
    assert run.state == Run.State.CRASHED

    ingest(run, {})

    assert run.state == Run.State.RUNNING
    assert timezone.now() - run.heartbeat_at < timedelta(minutes=1)


def test_a_crashed_run_that_completes_is_finished(make_run):
    run = make_run(state=Run.State.CRASHED)
    ingest(run, body(complete=True, exitcode=0))
    assert run.state == Run.State.FINISHED


@pytest.mark.parametrize("ended", [Run.State.FINISHED, Run.State.FAILED])
def test_a_late_heartbeat_does_not_revive_an_ended_run(make_run, ended):
    run = make_run(state=ended)
    ingest(run, {})
    assert run.state == ended


# Bad input: refused as a whole, nothing written

GOOD_HISTORY = chunk([{"_step": 0, "loss": 1.0}])
GOOD = {HISTORY_FILE: GOOD_HISTORY, CONSOLE_FILE: chunk(["hello"])}

BAD_BODIES = {
    "not an object": ["a", "list"],
    "a string": "files",
    "files a list": {"files": [GOOD_HISTORY]},
    "files a string": {"files": "wandb-history.jsonl"},
    "unknown file": {"files": {**GOOD, "config.yaml": chunk(["a: 1"])}},
    "file not an object": {"files": {**GOOD, SUMMARY_FILE: ["{}"]}},
    "negative offset": {"files": {HISTORY_FILE: {"offset": -1, "content": ['{"a": 1}']}}},
    "float offset": {"files": {HISTORY_FILE: {"offset": 1.0, "content": ['{"a": 1}']}}},
    "string offset": {"files": {HISTORY_FILE: {"offset": "3", "content": ['{"a": 1}']}}},
    "bool offset": {"files": {HISTORY_FILE: {"offset": True, "content": ['{"a": 1}']}}},
    "null offset": {"files": {HISTORY_FILE: {"offset": None, "content": ['{"a": 1}']}}},
    "content a string": {"files": {HISTORY_FILE: {"offset": 0, "content": '{"a": 1}'}}},
    "content of objects": {"files": {HISTORY_FILE: {"offset": 0, "content": [{"a": 1}]}}},
    "content with a number": {"files": {**GOOD, CONSOLE_FILE: {"content": ["ok", 3]}}},
    "history line not json": {"files": {**GOOD, HISTORY_FILE: chunk(['{"_step": 0}', "{nope"])}},
    "history line a list": {"files": {**GOOD, HISTORY_FILE: chunk(["[1, 2]"])}},
    "history line a number": {"files": {HISTORY_FILE: chunk(["3"])}},
    "events line not json": {"files": {**GOOD, EVENTS_FILE: chunk(["{'single': 1}"])}},
    "events line a string": {"files": {**GOOD, EVENTS_FILE: chunk(['"text"'])}},
    "summary not json": {"files": {**GOOD, SUMMARY_FILE: chunk(["{"])}},
    "summary not an object": {"files": {**GOOD, SUMMARY_FILE: chunk(["null"])}},
    "step a float": {"files": {HISTORY_FILE: chunk([{"_step": 1.5, "a": 1}])}},
    "step a string": {"files": {HISTORY_FILE: chunk([{"_step": "1", "a": 1}])}},
    "step negative": {"files": {HISTORY_FILE: chunk([{"_step": 0}, {"_step": -1, "a": 1}])}},
    "step a bool": {"files": {HISTORY_FILE: chunk([{"_step": True, "a": 1}])}},
    "step null": {"files": {HISTORY_FILE: chunk([{"_step": None, "a": 1}])}},
    "step too large": {"files": {HISTORY_FILE: chunk([{"_step": 2**63, "a": 1}])}},
    "offset too large": {"files": {EVENTS_FILE: {"offset": 2**63, "content": ['{"a": 1}']}}},
    "console offset too large": {"files": {CONSOLE_FILE: {"offset": 2**31, "content": ["x"]}}},
    "history key too long": {"files": {**GOOD, HISTORY_FILE: chunk([{"k" * 513: 1}])}},
    "events key too long": {"files": {**GOOD, EVENTS_FILE: chunk([{"k" * 600: "x"}])}},
    "exitcode a string": {"files": GOOD, "complete": True, "exitcode": "0"},
    "exitcode a float": {"files": GOOD, "complete": True, "exitcode": 1.0},
    "exitcode a bool": {"files": GOOD, "complete": True, "exitcode": False},
    "uploaded not a list": {"files": GOOD, "uploaded": "wandb-metadata.json"},
    "uploaded of numbers": {"files": GOOD, "uploaded": [1]},
}


@pytest.mark.parametrize("payload", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_input_is_refused_and_writes_nothing(run, payload):
    ingest(run, body(history=[{"_step": 100, "kept": 1}], summary=[{"kept": True}]))
    before, rows = state(run), stored_rows()

    with pytest.raises(IngestError) as error:
        parse_file_stream(payload)

    assert error.value.status == 400
    assert str(error.value)
    assert stored_rows() == rows
    assert state(run) == before


def test_the_largest_step_and_line_numbers_are_accepted(run):
    ingest(
        run,
        body(
            history=[{"_step": 2**63 - 1, "loss": 1.0}],
            console=(["last"], 2**31 - 2),
            events=([{"system.cpu": 1.0}], 2**31 - 2),
        ),
    )

    assert history(run) == [{"_step": 2**63 - 1, "loss": 1.0}]
    assert run.console_line_count == run.events_line_count == 2**31 - 1
    assert ConsoleLine.objects.get(run=run).line == 2**31 - 2


def test_a_key_of_the_longest_length_is_accepted(run):
    ingest(run, body(history=[{"_step": 0, "k" * 512: 1.0}]))
    assert history(run) == [{"_step": 0, "k" * 512: 1.0}]


def test_the_error_names_the_bad_line(db):
    payload = {"files": {HISTORY_FILE: chunk(['{"a": 1}', "{", '{"a": 2}'], offset=40)}}
    with pytest.raises(IngestError, match="line 41"):
        parse_file_stream(payload)


def test_too_many_lines_is_413(run, settings):
    settings.FILE_STREAM_MAX_LINES = 5
    payload = body(
        history=history_rows(0, 3), events=[{"a": 1}, {"a": 2}], console=["one line too many"]
    )
    rows = stored_rows()

    with pytest.raises(IngestError) as error:
        parse_file_stream(payload)

    assert error.value.status == 413
    assert "5" in str(error.value)
    assert stored_rows() == rows


def test_exactly_the_line_limit_is_accepted(run, settings):
    settings.FILE_STREAM_MAX_LINES = 5
    ingest(run, body(history=history_rows(0, 3), events=[{"a": 1}, {"a": 2}]))
    assert run.history_line_count == 3 and run.events_line_count == 2


@pytest.mark.parametrize("payload", [{}, {"files": {}}, {"files": None}, {"complete": False}])
def test_empty_bodies_are_heartbeats(payload, db):
    update = parse_file_stream(payload)
    assert update.history is None and update.events is None and update.summary is None
    assert not update.console and not update.complete and update.exit_code is None


@pytest.mark.parametrize(
    "payload, read",
    [
        (body(summary=[{"a": "x\u0000y"}]), lambda run: run.summary["a"]),
        (body(history=[{"_step": 0, "t": "x\u0000y"}]), lambda run: history(run)[0]["t"]),
        (body(console=["x\x00y"]), lambda run: ConsoleLine.objects.get(run=run).text),
    ],
    ids=["summary", "history", "console"],
)
def test_a_nul_character_is_kept_as_a_replacement_character(run, payload, read):
    # PostgreSQL's text and jsonb cannot hold U+0000; the rest of the text is kept.
    ingest(run, payload)
    run.refresh_from_db()
    assert read(run) == "x\ufffdy"


def test_deleting_a_run_or_its_project_deletes_its_points_and_tiles(run, make_run, project):

    other = make_run(run_id="other")
    for each in (run, other):
        ingest(
            each, body(history=[{"_step": step, "loss": 1.0 / (step + 1)} for step in range(40)])
        )

    run.delete()

    assert not Point.objects.filter(run_id=run.pk).exists()
    assert not PointTile.objects.filter(run_id=run.pk).exists()
    assert Point.objects.filter(run_id=other.pk).count() == 40
    project.delete()
    assert not Point.objects.exists() and not PointTile.objects.exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a SQLite table option")
def test_the_points_table_is_clustered_by_its_primary_key_on_sqlite(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'runs_point'")
        (sql,) = cursor.fetchone()
    assert "WITHOUT ROWID" in sql


# Nested metrics: flattened as W&B flattens them, logged objects kept whole


def test_a_nested_metric_is_stored_under_its_dotted_key(run):
    line = {"_step": 3, "train": {"loss": 0.5, "inner": {"acc": 0.9}}, "lr": 0.1}
    ingest(run, body(history=[line]))

    names = set(Point.objects.filter(run=run).values_list("key__name", flat=True))
    assert {"train.loss", "train.inner.acc", "lr"} <= names
    assert "train" not in names
    assert Point.objects.get(run=run, key__name="train.inner.acc").value == 0.9
    assert history(run) == [{"_step": 3, "train.loss": 0.5, "train.inner.acc": 0.9, "lr": 0.1}]


def test_a_logged_object_with_a_type_is_one_value_under_its_key(run):
    image = {"_type": "image-file", "path": "media/images/a.png", "width": 8, "height": 8}
    table = {"_type": "table-file", "path": "media/table/t.json", "nrows": 2}
    ingest(run, body(history=[{"_step": 0, "samples": {"image": image, "table": table}}]))

    rich = dict(RichValue.objects.filter(run=run).values_list("key__name", "value"))
    assert rich == {"samples.image": image, "samples.table": table}
    assert not Point.objects.filter(run=run, key__name__startswith="samples.").exists()


def test_an_empty_nested_object_is_kept_as_one_value(run):
    ingest(run, body(history=[{"_step": 0, "extra": {}}]))

    assert RichValue.objects.get(run=run).value == {}


def test_a_nested_summary_is_kept_as_the_client_sent_it(run):
    summary = {"_step": 4, "final": {"nested": {"x": 1}}, "val.loss": 0.2}
    ingest(run, body(summary=[summary]))

    assert run.summary == summary


def test_a_replayed_nested_line_writes_nothing_new(run):
    line = {"_step": 0, "train": {"loss": 0.5}}
    ingest(run, body(history=[line]))
    ingest(run, body(history=[line]))

    assert Point.objects.filter(run=run, key__name="train.loss").count() == 1
