"""Pages of a project's runs sorted by a config or summary key, read from the index of values
(RunValue) in its own order, so that the first page and one a million runs deep each read a
page's worth of index entries.

The order: runs whose value is a number, then text, true/false, null, an object, a list, and
last the runs without the key. Values run in the sort's direction within each kind, and the
run's primary key breaks ties the same way, so the order is total and a cursor (kind, value,
pk) says exactly where a page ends."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    CharField,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast

from .models import MetricKey, Run, RunValue
from .values import COLUMNS, indexable_name

MISSING = len(RunValue.Kind.values)  # the segment of runs without the key, after every kind
SEGMENTS = (*sorted(RunValue.Kind.values), MISSING)
VALUE_COLUMN = {RunValue.Kind.NUMBER: "number", RunValue.Kind.BOOLEAN: "number"}
VALUE_COLUMN[RunValue.Kind.STRING] = "text"


@dataclass(frozen=True)
class Position:
    """Where a run stands in a key's order."""

    segment: int  # a RunValue.Kind, or MISSING
    value: float | str | None
    pk: int

    def as_json(self) -> list:
        return [self.segment, self.value, self.pk]

    @classmethod
    def from_json(cls, data) -> "Position | None":
        if not isinstance(data, list) or len(data) != 3:
            return None
        segment, value, pk = data
        if segment not in SEGMENTS or not isinstance(pk, int) or isinstance(pk, bool):
            return None
        expected = {"number": (int, float), "text": (str,)}.get(VALUE_COLUMN.get(segment))
        if expected and (not isinstance(value, expected) or isinstance(value, bool)):
            return None
        return cls(segment, value if expected else None, pk)


def key_id(column: str, name: str):
    """The key's id as a subquery (SQL NULL when no run has the key), or None for a name too
    long to index, which no run has."""
    if not indexable_name(name):
        return None
    return Subquery(MetricKey.objects.filter(stream=COLUMNS[column], name=name).values("pk")[:1])


def page_positions(
    runs,
    *,
    project,
    key,
    descending: bool,
    filtered: bool,
    narrow: bool = False,
    after=None,
    reverse=False,
    limit: int,
) -> list[Position]:
    """The positions of up to `limit` runs of `runs` (the project's runs, `filtered` when
    conditions narrow them) in the key's order, after the position `after` (from the start
    when None); `reverse` walks the order backwards from `after`, nearest first. `narrow`
    says few runs match: their values are looked up rather than the key's whole order walked.
    One query: each kind's rows read in index order, at most `limit` of each, in one UNION
    ALL."""
    descending = descending != reverse
    segments = SEGMENTS if not reverse else tuple(reversed(SEGMENTS))
    if after is not None:
        segments = segments[segments.index(after.segment) :]
    parts = []
    for rank, segment in enumerate(segments):
        start = after if after is not None and after.segment == segment else None
        if segment == MISSING:
            rows = _missing(runs, key, descending, start)
        elif key is not None:
            rows = _values(runs, project, key, segment, descending, filtered, narrow, start)
        else:
            continue
        columns = {"p_rank": Value(rank, output_field=IntegerField()), **columns_of(segment)}
        parts.append(rows.annotate(**columns).values_list(*columns))
    direction = "DESC" if descending else "ASC"
    deferred = len(parts) > 1 and segments[-1] == MISSING
    compiled = []
    for number, part in enumerate(parts):
        is_deferred = deferred and number == len(parts) - 1
        part_sql, part_params = (part if is_deferred else part[:limit]).query.sql_with_params()
        compiled.append((f"SELECT * FROM ({part_sql}) AS part{number}", list(part_params)))
    # The parts each come in index order; the outer ORDER BY (a few hundred rows at most)
    # fixes the order of the whole, comparing text as the database does.
    order = f"ORDER BY 1, 3 {direction}, 4 {direction}, 2 {direction} LIMIT %s"
    if deferred:
        # Finding runs without the key may read every run: it is read up to what the runs
        # with a value leave of the page, so not at all when they fill it (LIMIT 0).
        (missing_sql, missing_params), earlier = compiled[-1], compiled[:-1]
        query = (
            f"WITH earlier AS ({' UNION ALL '.join(sql for sql, _ in earlier)})"
            f" SELECT * FROM (SELECT * FROM earlier UNION ALL SELECT * FROM ({missing_sql}"
            " LIMIT (CASE WHEN (SELECT COUNT(*) FROM earlier) < %s THEN %s - (SELECT COUNT(*)"
            f" FROM earlier) ELSE 0 END)) AS missing) AS parts {order}"
        )
        params = [*(p for _, ps in earlier for p in ps), *missing_params, limit, limit]
    else:
        joined = " UNION ALL ".join(sql for sql, _ in compiled)
        query = f"SELECT * FROM ({joined}) AS parts {order}"
        params = [p for _, ps in compiled for p in ps]
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, limit])
        rows = cursor.fetchall()
    return [
        Position(
            segments[rank], number if VALUE_COLUMN.get(segments[rank]) == "number" else text, pk
        )
        for rank, pk, number, text in rows
    ]


def columns_of(segment) -> dict:
    """The columns each part of the page's UNION selects, in this order."""
    if segment == MISSING:
        return {
            "p_pk": F("pk"),
            # Typed, so that PostgreSQL matches these columns with the index's in the UNION.
            "p_number": Cast(Value(None), FloatField()),
            "p_text": Cast(Value(None), CharField()),
        }
    return {"p_pk": F("run_id"), "p_number": F("number"), "p_text": F("text")}


def _values(runs, project, key, segment, descending, filtered, narrow, start):
    column = VALUE_COLUMN.get(segment)
    rows = RunValue.objects.filter(project=project, key_id=key, kind=segment)
    if column is None:
        # (project, key, kind, number IS NULL, run): the (..., number, run) index's own order.
        rows = rows.filter(number__isnull=True)
    if filtered and narrow:  # few runs match: look each one's value up, then sort them
        rows = rows.filter(run_id__in=runs.values("pk"))
    elif filtered:  # many match: walk the index in order, probing each run
        rows = rows.filter(Exists(runs.filter(pk=OuterRef("run_id"))))
    if start is not None:
        rows = rows.filter(_beyond(column, start, descending, pk="run_id"))
    order = [column, "run_id"] if column else ["run_id"]
    rows = rows.order_by(*(f"-{name}" if descending else name for name in order))
    return rows


def _beyond(column, start: Position, descending: bool, pk: str) -> Q:
    """Rows after `start` in the segment's order: by value (when the kind has one), then pk."""
    beyond = "lt" if descending else "gt"
    if column is None:
        return Q(**{f"{pk}__{beyond}": start.pk})
    # The redundant bound (value <= v, or >=) lets the index start at the cursor.
    return Q(**{f"{column}__{beyond}e": start.value}) & (
        Q(**{f"{column}__{beyond}": start.value})
        | Q(**{column: start.value, f"{pk}__{beyond}": start.pk})
    )


def _missing(runs, key, descending, start):
    if key is not None:
        runs = runs.filter(~Exists(RunValue.objects.filter(run=OuterRef("pk"), key_id=key)))
    if start is not None:
        runs = runs.filter(_beyond(None, start, descending, pk="pk"))
    return runs.order_by("-pk" if descending else "pk")


def runs_at(positions: list[Position]) -> list[Run]:
    """The runs at these positions, in their order, in one query."""
    runs = Run.objects.filter(pk__in=[p.pk for p in positions]).select_related("author")
    by_pk = {run.pk: run for run in runs}
    return [by_pk[p.pk] for p in positions if p.pk in by_pk]
