"""Reading a run's history and system metrics back as rows, the shape the client logged."""

import json
import math
from itertools import islice

from django.db import connection
from django.db.models import Min

from .models import MetricKey, Point, RichValue, Run, RunKey

STEP_KEY = "_step"
# Steps per IN (...) list: below SQLite's limit on query parameters.
STEP_CHUNK = 5_000
# Past the largest step stored (a BigIntegerField): an open end of a step range.
MAX_STEP = 2**63 - 1
NAN = math.nan


def _values(model, run: Run, stream: int):
    return model.objects.filter(run=run, key__stream=stream)


def all_steps(run: Run, stream: int, keys=None, min_step=None, max_step=None) -> list[int]:
    """The distinct steps (line numbers for system metrics) with a value, in order."""
    span = _every_step(run, stream, keys)
    if span is not None:
        lowest = span.start if min_step is None else max(span.start, min_step)
        return list(range(lowest, span.stop if max_step is None else min(span.stop, max_step)))
    steps = set()
    for model in (Point, RichValue):
        values = _values(model, run, stream)
        if keys is not None:
            values = values.filter(key__name__in=keys)
        if min_step is not None:
            values = values.filter(step__gte=min_step)
        if max_step is not None:
            values = values.filter(step__lt=max_step)
        steps.update(values.order_by().values_list("step", flat=True).distinct())
    return sorted(steps)


def _every_step(run: Run, stream: int, keys=None) -> range | None:
    """The steps as a range when some key has a value at every step from the first to the last
    of all the keys (a run that logs a metric each step), read from RunKey; None when not
    known, for the caller to find the steps in the points. A key with both numbers and objects
    is left out: it may hold both at one step."""
    found = RunKey.objects.filter(run=run, key__stream=stream)
    if keys is not None:
        found = found.filter(key__name__in=keys)
    spans = list(found.values_list("points", "rich", "first_step", "last_step"))
    if not spans:
        return range(0)
    first, last = min(span[2] for span in spans), max(span[3] for span in spans)
    if any(
        min(points, rich) == 0 and points + rich == last - first + 1 for points, rich, *_ in spans
    ):
        return range(first, last + 1)
    return None


def sample(steps: list[int], samples: int) -> list[int]:
    """At most `samples` steps spread evenly, the first and the last always kept."""
    if samples <= 0:
        return []
    if len(steps) <= samples:
        return steps
    if samples == 1:
        return [steps[-1]]
    last = len(steps) - 1
    return sorted({steps[round(i * last / (samples - 1))] for i in range(samples)})


def _chunks(items, size):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def rows_at(run: Run, stream: int, steps: list[int], keys=None) -> list[dict]:
    """The rows at these steps, each with the keys that have a value there."""
    rows = {step: {} for step in steps}
    if not steps:
        return []
    contiguous = steps[-1] - steps[0] + 1 == len(steps)
    selections = (
        [{"step__gte": steps[0], "step__lte": steps[-1]}]
        if contiguous
        else [{"step__in": chunk} for chunk in _chunks(steps, STEP_CHUNK)]
    )
    for model in (Point, RichValue):
        for selection in selections:
            values = _values(model, run, stream).filter(**selection)
            if keys is not None:
                values = values.filter(key__name__in=keys)
            for name, step, value in values.values_list("key__name", "step", "value"):
                if model is Point and value is None:
                    value = math.nan
                rows[step][name] = value
    if stream == MetricKey.Stream.HISTORY:
        for step, row in rows.items():
            row[STEP_KEY] = step
    return [rows[step] for step in steps]


def history(run: Run, *, samples: int | None = None, stream=MetricKey.Stream.HISTORY):
    steps = all_steps(run, stream)
    if samples is not None:
        steps = sample(steps, samples)
    return rows_at(run, stream, steps)


def run_keys(run: Run, stream: int, names=None) -> list[tuple[int, str, int, int]]:
    """(key id, name, scalar count, non-scalar count) of each key the run logged on the stream,
    from RunKey: one small read, however many points the run has."""
    keys = RunKey.objects.filter(run=run, key__stream=stream)
    if names is not None:
        keys = keys.filter(key__name__in=names)
    return list(keys.order_by("key_id").values_list("key_id", "key__name", "points", "rich"))


def _point_values(run: Run, key_id: int, min_step: int, max_step: int, limit: int | None):
    """(step, value) of one key's scalars in the range, in step order: a range scan of the
    primary key, read without the ORM (a page holds tens of thousands of them)."""
    table = connection.ops.quote_name(Point._meta.db_table)
    sql = (
        f"SELECT step, value FROM {table} WHERE run_id = %s AND key_id = %s "
        "AND step >= %s AND step < %s ORDER BY step"
    )
    params = [run.pk, key_id, min_step, max_step]
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _range_columns(run: Run, keys, min_step: int, max_step: int, limit: int | None) -> list:
    """(name, steps, values, scalar) of each key with values in min_step <= step < max_step
    (every key when `keys` is None), in step order: one range scan of the primary key (run,
    key, step) each, at most `limit` values, so the first `limit` steps of the union are
    complete rows."""
    columns = []
    for key_id, name, points, rich in run_keys(run, MetricKey.Stream.HISTORY, keys):
        if points:
            found = _point_values(run, key_id, min_step, max_step, limit)
            if found:
                steps, values = zip(*found, strict=True)
                if None in values:
                    values = tuple(NAN if value is None else value for value in values)
                columns.append((name, steps, values, True))
        if rich:
            found = (
                RichValue.objects.filter(
                    run=run, key_id=key_id, step__gte=min_step, step__lt=max_step
                )
                .order_by("step")
                .values_list("step", "value")
            )
            found = list(found if limit is None else found[:limit])
            if found:
                columns.append((name, *zip(*found, strict=True), False))
    return columns


def _aligned(columns) -> bool:
    """Whether every key has a value at the same steps (the usual run)."""
    return all(column[1] == columns[0][1] for column in columns)


def _rows(columns, limit: int | None = None) -> list[dict]:
    """The rows of these columns in step order, `_step` last."""
    if not columns:
        return []
    if _aligned(columns):
        # Built column by column, without a Python step per value.
        names = [column[0] for column in columns] + [STEP_KEY]
        rows = [
            dict(zip(names, row, strict=True))
            for row in zip(*[column[2] for column in columns], columns[0][1], strict=True)
        ]
    else:
        merged = {}
        for name, steps, values, _ in columns:
            for step, value in zip(steps, values, strict=True):
                row = merged.get(step)
                if row is None:
                    row = merged[step] = {}
                row[name] = value
        rows = []
        for step in sorted(merged):
            row = merged[step]
            row[STEP_KEY] = step
            rows.append(row)
    return rows if limit is None else rows[:limit]


def history_page(run: Run, *, min_step: int, max_step: int, limit: int, keys=None) -> list[dict]:
    """Rows with min_step <= step < max_step, at most `limit`, in order (scan_history)."""
    if limit <= 0:
        return []
    lookup = [key for key in keys if key != STEP_KEY] if keys else None
    return _rows(_range_columns(run, lookup, min_step, max_step, limit), limit)


def history_page_lines(run: Run, *, min_step: int, max_step: int, limit: int) -> list[str]:
    """history_page as the JSON lines `history` answers, each as json.dumps writes it."""
    if limit <= 0:
        return []
    columns = _range_columns(run, None, min_step, max_step, limit)
    # sum() is finite only when every value is (NaN and infinities have no %r JSON spelling).
    if columns and _aligned(columns) and all(c[3] and math.isfinite(sum(c[2])) for c in columns):
        # Numbers at the same steps: each line is one %-format of its values, whose %r is
        # the text json.dumps writes for a finite float, without a dict per row.
        fields = ", ".join(f"{json.dumps(c[0]).replace('%', '%%')}: %r" for c in columns)
        line = f"{{{fields}, {json.dumps(STEP_KEY)}: %d}}"
        steps = columns[0][1][:limit]
        return [line % row for row in zip(*[c[2] for c in columns], steps, strict=True)]
    return [json.dumps(row) for row in _rows(columns, limit)]


def sampled_history(
    run: Run, keys: list[str], samples: int, min_step=None, max_step=None
) -> list[dict]:
    """Rows where any of `keys` has a value, sampled, with only those keys (and `_step`). With a
    step range (min_step inclusive, max_step exclusive; scan_history's pages) the rows are read
    by range scans, and sampled only when the range holds more than `samples` of them."""
    lookup = [key for key in keys if key != STEP_KEY]
    if min_step is None and max_step is None:
        steps = sample(all_steps(run, MetricKey.Stream.HISTORY, keys=lookup), samples)
        rows = rows_at(run, MetricKey.Stream.HISTORY, steps, keys=lookup)
    else:
        rows = _rows(
            _range_columns(
                run,
                lookup,
                0 if min_step is None else min_step,
                MAX_STEP if max_step is None else max_step,
                None,
            )
        )
        if len(rows) > samples:
            rows = [rows[i] for i in sample(list(range(len(rows))), samples)]
    if STEP_KEY not in keys:
        for row in rows:
            row.pop(STEP_KEY, None)
    return rows


def history_keys(run: Run) -> dict:
    """`{"lastStep": N, "keys": {name: {"typeCounts": [...]}}}`, as W&B reports them."""
    keys = {}
    counts = RunKey.objects.filter(run=run, key__stream=MetricKey.Stream.HISTORY).order_by(
        "key__name"
    )
    last_step = -1
    for name, points, rich, last in counts.values_list("key__name", "points", "rich", "last_step"):
        type_counts = [
            {"type": type_name, "count": count}
            for type_name, count in (("number", points), ("object", rich))
            if count
        ]
        keys[name] = {"typeCounts": type_counts}
        last_step = max(last_step, last)
    if last_step >= 0:
        keys[STEP_KEY] = {"typeCounts": [{"type": "number", "count": run.history_line_count}]}
    return {"lastStep": last_step, "keys": keys}


def first_step(run: Run) -> int | None:
    """The run's first history step, or None before it logs any."""
    return RunKey.objects.filter(run=run, key__stream=MetricKey.Stream.HISTORY).aggregate(
        first=Min("first_step")
    )["first"]


def latest_system_metrics(run: Run) -> dict:
    """The last system-metrics row (W&B's `systemMetrics`)."""
    last = run.events_line_count - 1
    if last < 0:
        return {}
    rows = rows_at(run, MetricKey.Stream.EVENTS, [last])
    return rows[0] if rows else {}
