"""Chart data (runs/charts.py) on series ingested as production ingests them: file_stream
bodies through parse_file_stream + apply_file_stream, which write the points and their tiles.

A long series comes back as at most 2 x buckets points: per bucket its lowest and highest
value, every one a real logged (step, value). A zoomed range is re-read at the resolution it
needs. Tiles end the same whatever order or how often chunks arrive. Exports stream every point.
"""

import functools
import json
import math
import random
from urllib.parse import urlencode

import pytest

from projects.models import Project
from runs import charts
from runs.ingest import EVENTS_FILE, HISTORY_FILE, apply_file_stream, parse_file_stream
from runs.models import MetricKey, Point, PointTile, Run
from teams.models import Entity
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

HISTORY = MetricKey.Stream.HISTORY
EVENTS = MetricKey.Stream.EVENTS

# The long series: steps FIRST .. FIRST + LONG - 1, noise in [-1, 1], two spikes, and the
# range's extremes just inside a zoom whose edge tiles hold the spikes.
LONG = 50_000
FIRST = 3
CHUNK = 5_000
SPIKE_MAX_STEP, SPIKE_MAX = 31_337, 1e6
SPIKE_MIN_STEP, SPIKE_MIN = 12_345, -1e6
NEAR_MIN_STEP, NEAR_MIN = 12_350, -500.0
NEAR_MAX_STEP, NEAR_MAX = 31_330, 500.0
T0 = 1_700_000_000.0


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def make_run(project, alice):
    def make(**fields):
        fields.setdefault("state", Run.State.RUNNING)
        return RunFactory(project=project, author=alice, **fields)

    return make


def send(run, rows, offset=0, file=HISTORY_FILE):
    """One file_stream request carrying these rows (dicts) of one file at `offset`."""
    payload = {"files": {file: {"offset": offset, "content": [json.dumps(r) for r in rows]}}}
    apply_file_stream(run, parse_file_stream(payload))


def send_in_chunks(run, rows, size, file=HISTORY_FILE):
    for start in range(0, len(rows), size):
        send(run, rows[start : start + size], start, file)


def long_points():
    rng = random.Random(20_240_601)
    points = [(FIRST + i, rng.uniform(-1, 1)) for i in range(LONG)]
    for step, value in (
        (SPIKE_MAX_STEP, SPIKE_MAX),
        (SPIKE_MIN_STEP, SPIKE_MIN),
        (NEAR_MIN_STEP, NEAR_MIN),
        (NEAR_MAX_STEP, NEAR_MAX),
    ):
        points[step - FIRST] = (step, value)
    return points


@pytest.fixture(scope="module")
def long_run(django_db_setup, django_db_blocker):
    """A run that logged the long series of `loss` in chunks of CHUNK lines. Ingested once for
    the module (these tests only read it), outside the tests' transactions, so removed after."""
    with django_db_blocker.unblock():
        keys = set(MetricKey.objects.values_list("pk", flat=True))
        entity = Entity.objects.create(name="charts-long-series", kind=Entity.Kind.TEAM)
        project = Project.objects.create(entity=entity, name="long")
        run = Run.objects.create(project=project, run_id="long", state=Run.State.FINISHED)
        points = long_points()
        send_in_chunks(run, [{"_step": step, "loss": value} for step, value in points], CHUNK)
    run.points = points
    yield run
    with django_db_blocker.unblock():
        entity.delete()  # its project, the run, its points and tiles
        MetricKey.objects.exclude(pk__in=keys).delete()


def bucket_width(span, buckets):
    """The tile width charts reads for a sampled range of `span` steps (1: points)."""
    widths = [width for width in PointTile.WIDTHS if width * buckets <= span]
    return widths[-1] if widths else 1


def expected_sample(points, buckets):
    """Brute force over the raw (step, value) list, in step order: per bucket the lowest and
    the highest value (the earliest step on ties), NaN (None) left out. Buckets are made as
    charts._Buckets makes them: index = (tile - first tile) * buckets // tiles spanned, a tile
    being `width` steps (one step when the range is read point by point)."""
    first, last = points[0][0], points[-1][0]
    width = bucket_width(last - first + 1, buckets)
    first_tile, tiles = first // width, last // width - first // width + 1
    low, high = {}, {}
    for step, value in points:
        if value is None:
            continue
        index = (step // width - first_tile) * buckets // tiles
        if index not in low or value < low[index][1]:
            low[index] = (step, value)
        if index not in high or value > high[index][1]:
            high[index] = (step, value)
    return low, high


def pairs(series):
    return list(zip(series.steps, series.values, strict=True))


def check_sampled(series, points, buckets):
    """`series` is `points` bucketed: a sample of real points keeping each bucket's extremes."""
    assert series.sampled is True
    got = pairs(series)
    assert len(got) <= 2 * buckets
    assert series.steps == sorted(set(series.steps)), "steps sorted, each once"
    logged = dict(points)
    assert all(logged[step] == value for step, value in got), "only logged (step, value) pairs"
    low, high = expected_sample(points, buckets)
    assert len(low) == min(buckets, len(points))  # every bucket has points
    missing_low = {i: p for i, p in low.items() if p not in got}
    missing_high = {i: p for i, p in high.items() if p not in got}
    assert missing_low == {}, "a bucket lost its lowest value"
    assert missing_high == {}, "a bucket lost its highest value"
    # And nothing else: each returned point is a bucket's lowest or highest.
    assert got == sorted(set(low.values()) | set(high.values()))
    assert (series.first_step, series.last_step) == (points[0][0], points[-1][0])


# Bucketing


@pytest.mark.parametrize(("count", "buckets"), [(10, 5), (150, 75), (2000, 1000)])
def test_a_series_of_at_most_2x_buckets_steps_comes_back_whole(make_run, count, buckets):
    run = make_run()
    points = [(step, math.sin(step) * 10 + step / 7) for step in range(count)]
    send(run, [{"_step": step, "loss": value} for step, value in points])

    series = charts.metric_series(run, "loss", buckets=buckets)

    assert series.sampled is False
    assert pairs(series) == points  # exact floats, every step
    assert (series.first_step, series.last_step) == (0, count - 1)


def test_one_step_past_2x_buckets_is_sampled_by_points(make_run):
    run = make_run()
    points = [(step, math.cos(step / 3)) for step in range(151)]
    send(run, [{"_step": step, "loss": value} for step, value in points])

    series = charts.metric_series(run, "loss", buckets=75)

    check_sampled(series, points, 75)


def test_long_series_keeps_the_spikes_and_every_buckets_extremes(long_run):
    points = long_run.points

    series = charts.metric_series(long_run, "loss")  # the default 1000 buckets

    check_sampled(series, points, charts.DEFAULT_BUCKETS)
    assert len(series.steps) == 2 * charts.DEFAULT_BUCKETS  # random noise: distinct extremes
    assert (SPIKE_MAX_STEP, SPIKE_MAX) in pairs(series)
    assert (SPIKE_MIN_STEP, SPIKE_MIN) in pairs(series)
    assert max(series.values) == SPIKE_MAX
    assert min(series.values) == SPIKE_MIN


@pytest.mark.parametrize(
    "buckets",
    [
        1,  # 4096-step tiles: the two spikes only
        3,
        10,  # 4096-step tiles
        37,  # 256-step tiles
        250,
        1000,  # 16-step tiles
        3000,
        charts.MAX_BUCKETS,  # no tile fits: buckets of points
    ],
)
def test_every_bucket_size_keeps_each_buckets_extremes(long_run, buckets):
    series = charts.metric_series(long_run, "loss", buckets=buckets, with_time=False)

    check_sampled(series, long_run.points, buckets)
    if buckets == 1:
        assert pairs(series) == [(SPIKE_MIN_STEP, SPIKE_MIN), (SPIKE_MAX_STEP, SPIKE_MAX)]


def test_sparsely_logged_steps_still_come_back_as_every_point(make_run):
    run = make_run()
    points = [(step, step / 10) for step in range(0, 1000, 10)]
    send(run, [{"_step": step, "loss": value} for step, value in points])

    # 100 points over 991 steps and 100 buckets: at most one point per bucket.
    assert pairs(charts.metric_series(run, "loss", buckets=100)) == points


def test_unknown_key_or_stream_gives_an_empty_series(long_run):
    for series in (
        charts.metric_series(long_run, "nope"),
        charts.metric_series(long_run, "loss", stream=EVENTS),
    ):
        assert series.as_dict() == {
            "key": series.key,
            "step": [],
            "value": [],
            "runtime": [],
            "timestamp": [],
            "first_step": None,
            "last_step": None,
            "sampled": False,
        }


# Zoom


def in_range(points, lo, hi):
    return [(step, value) for step, value in points if lo <= step <= hi]


@pytest.mark.parametrize(
    ("lo", "hi", "buckets"),
    [
        (10_000, 40_000, 100),  # 256-step tiles, both edge tiles cut
        (999, 45_001, 1000),  # 16-step tiles
        (4_097, 4_096 * 9 + 1, 2),  # 4096-step tiles, cut one step in
        (5, 50_000, 3),
        (1_000, 12_000, 1000),  # no tile fits: buckets of points
    ],
)
def test_a_zoomed_range_is_bucketed_within_itself(long_run, lo, hi, buckets):
    series = charts.metric_series(long_run, "loss", lo=lo, hi=hi, buckets=buckets)

    assert lo <= series.first_step and series.last_step <= hi
    assert all(lo <= step <= hi for step in series.steps)
    check_sampled(series, in_range(long_run.points, lo, hi), buckets)


def test_a_zoom_whose_edge_tiles_hold_spikes_keeps_the_extremes_inside_it(long_run):
    # The tiles at both edges have their lowest / highest value (the spikes) just outside
    # the range; the range's own extremes sit in those same tiles.
    lo, hi = SPIKE_MIN_STEP + 1, SPIKE_MAX_STEP - 1
    for buckets in (1, 10, 100, 1000):
        series = charts.metric_series(long_run, "loss", lo=lo, hi=hi, buckets=buckets)

        assert min(series.values) == NEAR_MIN
        assert max(series.values) == NEAR_MAX
        assert (NEAR_MIN_STEP, NEAR_MIN) in pairs(series)
        assert (NEAR_MAX_STEP, NEAR_MAX) in pairs(series)
        assert SPIKE_MIN not in series.values and SPIKE_MAX not in series.values
        check_sampled(series, in_range(long_run.points, lo, hi), buckets)


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        (20_000, 20_000 + 2 * 100 - 1),  # exactly 2 x buckets steps
        (SPIKE_MAX_STEP - 50, SPIKE_MAX_STEP + 50),
        (0, FIRST + 10),  # starts before the first step
        (FIRST + LONG - 7, FIRST + LONG + 1000),  # ends past the last
    ],
)
def test_a_small_zoomed_range_comes_back_at_full_resolution(long_run, lo, hi):
    series = charts.metric_series(long_run, "loss", lo=lo, hi=hi, buckets=100)

    expected = in_range(long_run.points, lo, hi)
    assert series.sampled is False
    assert pairs(series) == expected
    assert (series.first_step, series.last_step) == (expected[0][0], expected[-1][0])


def test_zooming_in_turns_a_sampled_range_into_every_point(long_run):
    wide = charts.metric_series(long_run, "loss", lo=20_000, hi=30_000, buckets=100)
    narrow = charts.metric_series(long_run, "loss", lo=25_000, hi=25_150, buckets=100)

    assert wide.sampled is True and len(wide.steps) <= 200
    assert narrow.sampled is False
    assert narrow.steps == list(range(25_000, 25_151))


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(FIRST + LONG, None), (None, FIRST - 1), (60_000, 70_000), (10, 5)],
)
def test_a_range_without_points_is_empty(long_run, lo, hi):
    series = charts.metric_series(long_run, "loss", lo=lo, hi=hi)

    assert series.steps == [] and series.first_step is None and series.last_step is None


def test_open_ended_ranges(long_run):
    head = charts.metric_series(long_run, "loss", hi=FIRST + 99, buckets=50)
    tail = charts.metric_series(long_run, "loss", lo=FIRST + LONG - 100, buckets=50)

    assert pairs(head) == long_run.points[:100]
    assert pairs(tail) == long_run.points[-100:]


# Tiles: the same whatever order, overlap or repetition the chunks arrive in

TILE_STEPS = 6_000


def tile_series_rows():
    """Two metrics over TILE_STEPS steps, with many tied values, NaN in places and a stretch
    of NaN longer than a 16-step tile."""
    rng = random.Random(7)
    rows = []
    for step in range(TILE_STEPS):
        loss = round(rng.uniform(0, 1), 1)  # ten values: ties everywhere
        if step % 97 == 0 or 1_000 <= step < 1_040:
            loss = float("nan")
        rows.append({"_step": step, "loss": loss, "acc": float(step % 13)})
    return rows


def tile_rows(run):
    return sorted(
        PointTile.objects.filter(run=run).values_list(
            "key__name", "width", "tile", "min_step", "min_value", "max_step", "max_value"
        )
    )


def brute_force_tiles(rows):
    tiles = {}
    for row in rows:
        for key in ("loss", "acc"):
            value = row[key]
            if math.isnan(value):
                continue
            for width in PointTile.WIDTHS:
                index = (key, width, row["_step"] // width)
                tile = tiles.setdefault(index, [row["_step"], value, row["_step"], value])
                # Rows in step order: strict comparisons keep the earliest step on ties.
                if value < tile[1]:
                    tile[0], tile[1] = row["_step"], value
                if value > tile[3]:
                    tile[2], tile[3] = row["_step"], value
    return sorted((*index, *tile) for index, tile in tiles.items())


def series_outputs(run):
    return [
        charts.metric_series(run, key, buckets=buckets).as_dict()
        for key in ("loss", "acc")
        for buckets in (1, 10, 50, 1000, 3000, charts.MAX_BUCKETS)
    ]


def test_tiles_are_the_same_for_replayed_overlapping_and_shuffled_chunks(make_run):
    rows = tile_series_rows()
    in_order, shuffled = make_run(), make_run()
    send_in_chunks(in_order, rows, 1_000)

    chunks = [(start, rows[start : start + 700]) for start in range(0, TILE_STEPS, 700)]
    random.Random(3).shuffle(chunks)
    for start, chunk in chunks:
        send(shuffled, chunk, start)
    send(shuffled, rows[350:2_450], 350)  # overlapping what came before
    send(shuffled, rows[::-1][:1_500], 0)  # the last rows, newest first
    for start, chunk in chunks[:3]:
        send(shuffled, chunk, start)  # replayed

    expected = brute_force_tiles(rows)
    assert tile_rows(in_order) == expected
    assert tile_rows(shuffled) == expected
    assert series_outputs(shuffled) == series_outputs(in_order)


def test_replaying_everything_changes_no_tile(make_run):
    run = make_run()
    rows = tile_series_rows()
    send_in_chunks(run, rows, 2_000)
    before = tile_rows(run)

    send_in_chunks(run, rows, 2_000)
    send(run, rows[1_234:1_300], 1_234)

    assert tile_rows(run) == before
    assert PointTile.objects.filter(run=run).count() == len(before)


def test_tiles_are_per_run(make_run):
    rows = tile_series_rows()
    first, second = make_run(), make_run()
    send(first, rows[:2_000])
    send(second, [{**row, "loss": -1.0} for row in rows[:2_000]])

    assert tile_rows(first) == brute_force_tiles(rows[:2_000])
    assert {row[4] for row in tile_rows(second) if row[0] == "loss"} == {-1.0}


def test_nan_is_left_out_of_tiles_but_is_null_in_raw_output(make_run):
    run = make_run()
    rows = tile_series_rows()
    send(run, rows)
    nan_steps = [row["_step"] for row in rows if math.isnan(row["loss"])]

    loss = MetricKey.objects.get(stream=HISTORY, name="loss")
    stored = dict(Point.objects.filter(run=run, key=loss).values_list("step", "value"))
    assert len(stored) == TILE_STEPS
    assert all(stored[step] is None for step in nan_steps)
    tiles = PointTile.objects.filter(run=run, key=loss)
    assert not any(math.isnan(v) for v in tiles.values_list("min_value", flat=True))
    assert not any(math.isnan(v) for v in tiles.values_list("max_value", flat=True))
    # 1000..1039 is NaN only: no 16-step tile for 1008..1023.
    assert not tiles.filter(width=16, tile=1_008 // 16).exists()
    assert tiles.filter(width=16, tile=1_040 // 16).exists()

    raw = charts.metric_series(run, "loss", lo=990, hi=1_050).as_dict()
    assert raw["sampled"] is False
    assert raw["step"] == list(range(990, 1_051))
    assert [raw["value"][i] is None for i in range(61)] == [990 + i in nan_steps for i in range(61)]
    sampled = charts.metric_series(run, "loss", buckets=50)
    assert sampled.sampled is True and None not in sampled.values
    assert json.loads(json.dumps(raw))["value"][10] is None  # JSON null, not NaN


def test_a_metric_that_is_only_nan_has_no_tiles_but_its_points(make_run):
    run = make_run()
    send(run, [{"_step": step, "diverged": float("nan")} for step in range(40)])

    assert not PointTile.objects.filter(run=run).exists()
    series = charts.metric_series(run, "diverged")
    assert series.as_dict()["value"] == [None] * 40
    assert charts.metric_series(run, "diverged", buckets=10).values == []  # sampled: no values


# Relative and wall time beside each step


def timed_rows(count):
    rows = []
    for step in range(count):
        row = {"_step": step, "loss": 1 / (step + 1), "_runtime": step * 0.5}
        if step % 7:
            row["_timestamp"] = T0 + step  # a row without a timestamp: None there
        rows.append(row)
    return rows


def check_times(series):
    assert len(series.runtimes) == len(series.timestamps) == len(series.steps)
    for step, runtime, timestamp in zip(
        series.steps, series.runtimes, series.timestamps, strict=True
    ):
        assert runtime == step * 0.5
        assert timestamp == (T0 + step if step % 7 else None)


def test_runtime_and_timestamp_line_up_with_the_steps(make_run):
    run = make_run()
    send_in_chunks(run, timed_rows(6_000), 3_000)

    whole = charts.metric_series(run, "loss", lo=100, hi=299, buckets=100)
    assert whole.sampled is False and len(whole.steps) == 200
    check_times(whole)

    # A sampled series reads its scattered steps' times by looking each step up.
    sampled = charts.metric_series(run, "loss", buckets=100)
    assert sampled.sampled is True and len(sampled.steps) > 7
    check_times(sampled)
    assert sampled.as_dict()["runtime"] == sampled.runtimes

    bare = charts.metric_series(run, "loss", buckets=100, with_time=False)
    assert bare.steps == sampled.steps and bare.runtimes == bare.timestamps == []


def test_a_run_without_time_keys_gets_none_times(make_run):
    run = make_run()
    send(run, [{"_step": step, "loss": step} for step in range(5)])

    series = charts.metric_series(run, "loss")

    assert series.runtimes == series.timestamps == [None] * 5


def test_another_runs_times_are_not_mixed_in(make_run):
    mine, other = make_run(), make_run()
    send(mine, [{"_step": step, "loss": step} for step in range(5)])
    send(other, timed_rows(5))

    assert charts.metric_series(mine, "loss").runtimes == [None] * 5


# System metrics: keyed by line number, timed by their own stream


def test_system_metrics_are_keyed_by_line_number(make_run):
    run = make_run()
    # History times that differ from the system metrics' own.
    send(run, [{"_step": s, "loss": 1.0, "_runtime": 1000.0 + s} for s in range(400)])
    events = [
        {
            "system.cpu": float(line % 100),
            "system.gpu.0.gpu": 50.0 + line % 3,
            "_runtime": 2.0 * line,
            "_timestamp": T0 + 2 * line,
        }
        for line in range(300)
    ]
    send_in_chunks(run, events, 120, EVENTS_FILE)

    cpu = charts.metric_series(run, "system.cpu", stream=EVENTS)
    assert cpu.steps == list(range(300))
    assert cpu.values == [float(line % 100) for line in range(300)]
    assert cpu.runtimes == [2.0 * line for line in range(300)]
    assert cpu.timestamps == [T0 + 2 * line for line in range(300)]

    gpu = charts.metric_series(run, "system.gpu.0.gpu", stream=EVENTS, buckets=10)
    check_sampled(gpu, [(line, 50.0 + line % 3) for line in range(300)], 10)
    assert gpu.runtimes == [2.0 * step for step in gpu.steps]

    # The same name in the history stream is another metric.
    assert charts.metric_series(run, "system.cpu").steps == []
    run.refresh_from_db()
    assert run.events_line_count == 300


# Export: every point, in step order, in batches


def export_points():
    return [(step, None if step % 11 == 0 else step * 0.25) for step in range(50)]


@pytest.fixture
def export_run(make_run):
    run = make_run()
    rows = [
        {"_step": step, "loss": float("nan") if value is None else value}
        for step, value in export_points()
    ]
    send(run, rows[25:], 25)  # the later half first: the export is in step order all the same
    send(run, rows[:25], 0)
    return run


def test_export_rows_reads_every_point_in_batches(export_run, django_assert_num_queries):
    # The key's id, 50 / 7 -> 8 batches, and the empty read that ends it.
    with django_assert_num_queries(1 + 8 + 1):
        rows = list(charts.export_rows(export_run, "loss", batch=7))
    assert rows == export_points()

    assert list(charts.export_rows(export_run, "loss", batch=50)) == export_points()
    assert list(charts.export_rows(export_run, "loss")) == export_points()
    assert list(charts.export_rows(export_run, "nope")) == []
    assert list(charts.export_rows(export_run, "loss", stream=EVENTS)) == []


def test_export_of_a_long_series_is_every_point(long_run):
    assert list(charts.export_rows(long_run, "loss", batch=4_999)) == long_run.points


def export_url(run, **params):
    path = f"/{run.project.path}/runs/{run.run_id}/metric/export/"
    return f"{path}?{urlencode(params)}"


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(charts, "export_rows", functools.partial(charts.export_rows, batch=3))


def test_csv_export_streams_header_and_every_row(client, alice, export_run, small_batches):
    client.force_login(alice)

    response = client.get(export_url(export_run, key="loss"))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{export_run.run_id}-loss.csv"'
    )
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "step,value"
    assert lines[1:] == [f"{s},{'' if v is None else repr(v)}" for s, v in export_points()]


def test_jsonl_export_streams_every_row(client, alice, export_run, small_batches):
    client.force_login(alice)

    response = client.get(export_url(export_run, key="loss", format="jsonl"))

    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].endswith(f'filename="{export_run.run_id}-loss.jsonl"')
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"step": step, "value": value} for step, value in export_points()
    ]


def test_export_of_system_metrics_and_of_unknown_keys(client, alice, make_run):
    run = make_run()
    send(run, [{"system.disk.in": line * 2.0} for line in range(5)], 0, EVENTS_FILE)
    client.force_login(alice)

    system = client.get(export_url(run, key="system.disk.in", stream="system"))
    unknown = client.get(export_url(run, key="nope"))
    bad = client.get(export_url(run, key="loss", stream="gpu"))

    assert b"".join(system.streaming_content).decode().splitlines() == [
        "step,value",
        *(f"{line},{line * 2.0!r}" for line in range(5)),
    ]
    assert b"".join(unknown.streaming_content).decode() == "step,value\n"
    assert bad.status_code == 400
    assert client.get(export_url(run)).status_code == 400  # no key
