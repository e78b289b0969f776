"""Chart data: one metric of one run as at most about 2 x `buckets` points, each bucket keeping
its lowest and highest value so spikes stay visible. A zoomed step range is re-read at the
resolution it needs, down to every point."""

import json
import math
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter

from django.db import connection

from .models import MetricKey, Point, PointTile, Run

DEFAULT_BUCKETS = 1000
MAX_BUCKETS = 5000
RUNTIME_KEY = "_runtime"
TIMESTAMP_KEY = "_timestamp"


@dataclass
class Series:
    key: str
    steps: list = field(default_factory=list)
    values: list = field(default_factory=list)
    runtimes: list = field(default_factory=list)
    timestamps: list = field(default_factory=list)
    first_step: int | None = None
    last_step: int | None = None
    sampled: bool = False  # False: every point in the range is here

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "step": self.steps,
            "value": [None if v is None or math.isnan(v) else v for v in self.values],
            "runtime": self.runtimes,
            "timestamp": self.timestamps,
            "first_step": self.first_step,
            "last_step": self.last_step,
            "sampled": self.sampled,
        }


def key_ids(stream: int, names) -> dict[str, int]:
    return dict(MetricKey.objects.filter(stream=stream, name__in=names).values_list("name", "id"))


def _edge_step(run: Run, key_id: int, lo, hi, *, last: bool):
    points = Point.objects.filter(run=run, key_id=key_id)
    if lo is not None:
        points = points.filter(step__gte=lo)
    if hi is not None:
        points = points.filter(step__lte=hi)
    return points.order_by("-step" if last else "step").values_list("step", flat=True).first()


class _Buckets:
    """Per bucket, the (step, value) of the lowest and of the highest value. A bucket holds
    whole spans of `width` steps (tiles), so no tile's lowest or highest value, read from a
    PointTile, lands in a neighbouring bucket in place of this one's."""

    def __init__(self, first: int, span: int, count: int, width: int = 1):
        last = first + span - 1
        self.width, self.first, self.count = width, first // width, count
        self.span = last // width - self.first + 1
        self.low = {}
        self.high = {}

    def add(self, step, low_value, high_step=None, high_value=None):
        if high_step is None:
            high_step, high_value = step, low_value
        index = (step // self.width - self.first) * self.count // self.span
        current = self.low.get(index)
        if current is None or low_value < current[1]:
            self.low[index] = (step, low_value)
        index = (high_step // self.width - self.first) * self.count // self.span
        current = self.high.get(index)
        if current is None or high_value > current[1]:
            self.high[index] = (high_step, high_value)

    def points(self):
        points = set(self.low.values()) | set(self.high.values())
        return sorted(points)


def metric_series(
    run: Run,
    key: str,
    *,
    stream: int = MetricKey.Stream.HISTORY,
    lo: int | None = None,
    hi: int | None = None,
    buckets: int = DEFAULT_BUCKETS,
    key_id: int | None = None,
    with_time: bool = True,
) -> Series:
    series = Series(key=key)
    if key_id is None:
        key_id = key_ids(stream, [key]).get(key)
    if key_id is None:
        return series
    first = _edge_step(run, key_id, lo, hi, last=False)
    if first is None:
        return series
    last = _edge_step(run, key_id, lo, hi, last=True)
    series.first_step, series.last_step = first, last
    span = last - first + 1
    if span <= 2 * buckets:
        rows = _raw(run, key_id, first, last)
    else:
        rows = _bucketed(run, key_id, first, last, span, buckets, lo, hi)
        series.sampled = True
    series.steps = [step for step, _ in rows]
    series.values = [value for _, value in rows]
    if with_time:
        series.runtimes, series.timestamps = _times(run, stream, series.steps)
    return series


def _raw(run, key_id, first, last) -> list[tuple[int, float | None]]:
    return list(
        Point.objects.filter(run=run, key_id=key_id, step__gte=first, step__lte=last)
        .order_by("step")
        .values_list("step", "value")
    )


def _bucketed(run, key_id, first, last, span, buckets, lo=None, hi=None) -> list:
    # The widest tiles that still give each bucket at least one tile of its own.
    widths = [width for width in PointTile.WIDTHS if width * buckets <= span]
    if not widths:
        result = _Buckets(first, span, buckets)
        for step, value in _raw(run, key_id, first, last):
            if value is not None:
                result.add(step, value)
        return result.points()
    width = widths[-1]
    result = _Buckets(first, span, buckets, width)
    first_tile, last_tile = first // width, last // width
    # A tile that a zoomed range cuts may hold its extremes outside the range: its points in
    # the range are read instead.
    head = tail = []
    if lo is not None and lo > first_tile * width:
        head = _raw(run, key_id, first, (first_tile + 1) * width - 1)
        first_tile += 1
    if hi is not None and hi < (last_tile + 1) * width - 1:
        tail = _raw(run, key_id, last_tile * width, last)
        last_tile -= 1
    tiles = (
        PointTile.objects.filter(
            run=run,
            key_id=key_id,
            width=width,
            tile__gte=first_tile,
            tile__lte=last_tile,
        )
        .order_by("tile")
        .values_list("min_step", "min_value", "max_step", "max_value")
    )
    for step, value in head:
        if value is not None:
            result.add(step, value)
    for min_step, min_value, max_step, max_value in tiles:
        result.add(min_step, min_value, max_step, max_value)
    for step, value in tail:
        if value is not None:
            result.add(step, value)
    return result.points()


def _times(run, stream, steps) -> tuple[list, list]:
    """Each step's `_runtime` and `_timestamp`, for charts by relative or wall time."""
    if not steps:
        return [], []
    ids = key_ids(stream, [RUNTIME_KEY, TIMESTAMP_KEY])
    found = {key_id: {} for key_id in ids.values()}
    if ids:
        dense = steps[-1] - steps[0] + 1 <= 2 * len(steps)
        rows = (
            Point.objects.filter(
                run=run, key_id__in=ids.values(), step__gte=steps[0], step__lte=steps[-1]
            ).values_list("key_id", "step", "value")
            if dense
            else _points_at(run.pk, list(ids.values()), steps)
        )
        for key_id, step, value in rows:
            found[key_id][step] = value
    runtimes = found.get(ids.get(RUNTIME_KEY), {})
    timestamps = found.get(ids.get(TIMESTAMP_KEY), {})
    return [runtimes.get(step) for step in steps], [timestamps.get(step) for step in steps]


def _points_at(run_id: int, key_id_list: list[int], steps: list[int]):
    """The points of these keys at these scattered steps: one primary-key lookup per step.
    (`step IN (...)` let SQLite, whose sampled statistics guess ~1,000 points per metric, scan
    every point of the metric instead: 400 ms for a million.)"""
    table = connection.ops.quote_name(Point._meta.db_table)
    keys = ", ".join(["%s"] * len(key_id_list))
    if connection.vendor == "postgresql":
        source, step = "unnest(%s::bigint[]) AS s(step)", "s.step"
        steps_param = "{" + ",".join(map(str, steps)) + "}"
    else:
        # CROSS JOIN: SQLite keeps the step list as the outer loop.
        source, step = "json_each(%s) AS s", "s.value"
        steps_param = json.dumps(steps)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.key_id, p.step, p.value FROM {source} CROSS JOIN {table} AS p "
            f"WHERE p.run_id = %s AND p.key_id IN ({keys}) AND p.step = {step}",
            [steps_param, run_id, *key_id_list],
        )
        return cursor.fetchall()


def export_rows(run: Run, key: str, stream: int = MetricKey.Stream.HISTORY, batch=10_000):
    """Every (step, value) of a metric in step order, read in batches so memory stays flat."""
    key_id = key_ids(stream, [key]).get(key)
    if key_id is None:
        return
    after = -1
    while True:
        rows = list(
            Point.objects.filter(run=run, key_id=key_id, step__gt=after)
            .order_by("step")
            .values_list("step", "value")[:batch]
        )
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def group_series(members, key_id: int, *, lo=None, hi=None, buckets=DEFAULT_BUCKETS) -> dict:
    """One metric of groups of runs: per group, the number of its runs that logged the metric
    (`charted`) and, at each step (or each of about `buckets` spans of steps, for long series),
    the mean of their values and the lowest and highest. `members` is (sql, params) of a query
    of (grp, member): a group's index and a run's primary key. Two queries, whatever the
    number of groups and runs."""
    members_sql, members_params = members
    table = connection.ops.quote_name(Point._meta.db_table)
    bounds, bound_params = "", []
    if lo is not None:
        bounds, bound_params = bounds + " AND p.step >= %s", [*bound_params, lo]
    if hi is not None:
        bounds, bound_params = bounds + " AND p.step <= %s", [*bound_params, hi]
    series = {}
    with connection.cursor() as cursor:
        # Each run's first and last step, read from the primary key rather than its points.
        cursor.execute(
            f"SELECT e.grp, COUNT(e.first), MIN(e.first), MAX(e.last) FROM (SELECT m.grp,"
            f" (SELECT MIN(p.step) FROM {table} AS p WHERE p.run_id = m.member"
            f" AND p.key_id = %s{bounds}) AS first, (SELECT MAX(p.step) FROM {table} AS p"
            f" WHERE p.run_id = m.member AND p.key_id = %s{bounds}) AS last"
            f" FROM ({members_sql}) AS m) AS e GROUP BY e.grp",
            [key_id, *bound_params, key_id, *bound_params, *members_params],
        )
        edges = [row for row in cursor.fetchall() if row[1]]
        if not edges:
            return series
        for group, charted, _, _ in edges:
            series[group] = {"charted": charted, "step": [], "mean": [], "min": [], "max": []}
        first = min(row[2] for row in edges)
        last = max(row[3] for row in edges)
        width = max(1, math.ceil((last - first + 1) / buckets))
        cursor.execute(
            f"SELECT m.grp, (p.step - %s) / %s AS bucket, MIN(p.step), AVG(p.value),"
            f" MIN(p.value), MAX(p.value) FROM {table} AS p JOIN ({members_sql}) AS m"
            f" ON p.run_id = m.member WHERE p.key_id = %s{bounds}"
            f" GROUP BY m.grp, bucket ORDER BY m.grp, bucket",
            [first, width, *members_params, key_id, *bound_params],
        )
        for group, _, step, mean, low, high in cursor.fetchall():
            points = series[group]
            points["step"].append(step)
            points["mean"].append(mean)
            points["min"].append(low)
            points["max"].append(high)
    return series


def runs_series(run_pks: list[int], key_id: int, *, buckets: int = DEFAULT_BUCKETS) -> dict:
    """One metric of many runs, drawn like metric_series: every point of a short series; of a
    long one, the lowest and highest value of each of up to `buckets` spans, read from its tiles
    once it has at least `buckets` / 2 of them. {run pk: (steps, values)}, in two queries
    whatever the number of runs and points: each run's first and last step, then its points
    or its tiles."""
    if not run_pks:
        return {}
    points = connection.ops.quote_name(Point._meta.db_table)
    tiles = connection.ops.quote_name(PointTile._meta.db_table)
    runs = connection.ops.quote_name(Run._meta.db_table)
    marks = ", ".join(["%s"] * len(run_pks))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.id, (SELECT MIN(p.step) FROM {points} AS p WHERE p.run_id = r.id"
            f" AND p.key_id = %s), (SELECT MAX(p.step) FROM {points} AS p WHERE p.run_id = r.id"
            f" AND p.key_id = %s) FROM {runs} AS r WHERE r.id IN ({marks})",
            [key_id, key_id, *run_pks],
        )
        edges = {pk: (first, last) for pk, first, last in cursor.fetchall() if first is not None}
        if not edges:
            return {}
        raw, tiled = [], {}  # run pks read point by point; width -> run pks read by tiles
        for pk, (first, last) in edges.items():
            # Tiles as soon as there are at least half as many as buckets: reading every point
            # of a series a few times longer than the chart is wide costs more than it shows.
            widths = [
                width for width in PointTile.WIDTHS if width * buckets <= 2 * (last - first + 1)
            ]
            if last - first + 1 <= 2 * buckets or not widths:
                raw.append(pk)
            else:
                tiled.setdefault(widths[-1], []).append(pk)
        parts, params = [], []
        if raw:
            parts.append(
                f"SELECT p.run_id, p.step, p.value, p.step, p.value FROM {points} AS p"
                f" WHERE p.key_id = %s AND p.run_id IN ({', '.join(['%s'] * len(raw))})"
            )
            params += [key_id, *raw]
        for width, pks in tiled.items():
            parts.append(
                f"SELECT t.run_id, t.min_step, t.min_value, t.max_step, t.max_value FROM {tiles}"
                f" AS t WHERE t.run_id IN ({', '.join(['%s'] * len(pks))}) AND t.width = %s"
                f" AND t.key_id = %s"
            )
            params += [*pks, width, key_id]
        cursor.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2", params)
        rows = cursor.fetchall()
    widths = {pk: width for width, pks in tiled.items() for pk in pks}
    series = {}
    for pk, read in groupby(rows, key=itemgetter(0)):
        first, last = edges[pk]
        span = last - first + 1
        if span <= 2 * buckets:
            read = list(read)
            series[pk] = ([row[1] for row in read], [row[2] for row in read])
            continue
        result = _Buckets(first, span, buckets, widths.get(pk, 1))
        add = result.add
        for _, min_step, min_value, max_step, max_value in read:
            if min_value is not None:
                add(min_step, min_value, max_step, max_value)
        kept = result.points()
        series[pk] = ([step for step, _ in kept], [value for _, value in kept])
    return series
