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
    Case,
    CharField,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from .models import MetricKey, Run, RunValue
from .query.compiler import Probe
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
    matching=None,
    narrow: bool = False,
    after=None,
    reverse=False,
    limit: int,
) -> list[Position]:
    """The positions of up to `limit` runs in the key's order, after the position `after`
    (from the start when None); `reverse` walks the order backwards from `after`, nearest
    first. `runs` are the project's runs, narrowed by probing each (runs.query.to_q) when
    `matching`, the same runs read as a set, is given: a `narrow` set's values are looked up
    and sorted; otherwise the key's order is walked, probing runs, and only if the first
    WALK entries hold too few matches is the set sorted instead (a second query). One query:
    each kind's rows in index order, at most `limit` of each, in one UNION ALL."""
    descending = descending != reverse
    segments = SEGMENTS if not reverse else tuple(reversed(SEGMENTS))
    if after is not None:
        segments = segments[segments.index(after.segment) :]
    query = _PageQuery(limit)
    # A narrow set is read once, as a table of its own, and its runs' values looked up and
    # sorted in one part for every kind (a part per kind would compute the set again each).
    matched = query.matched(matching) if narrow and matching is not None else None
    for rank, segment in enumerate(segments):
        start = after if after is not None and after.segment == segment else None
        columns = {"p_rank": Value(rank, output_field=IntegerField()), **columns_of(segment)}
        if segment == MISSING:
            narrowed = runs.filter(pk__in=matched) if matched is not None else runs
            missing = _missing(narrowed, key, descending, start)
            query.add_missing(missing.annotate(**columns).values_list(*columns))
        elif key is None:
            continue
        elif matched is not None:
            if segment == next(kind for kind in segments if kind != MISSING):
                values = _matched_values(matched, key, segments, descending, after)
                query.add(values)
        elif matching is None:
            rows = _values(project, key, segment, descending, start).annotate(**columns)
            query.add(rows.values_list(*columns))
        else:
            rows = _values(project, key, segment, descending, start).annotate(**columns)
            probe = runs.filter(pk=RawSQL('"walk"."p_pk"', ())).values("pk")
            query.add_walk(rows.values_list(*columns), probe)
    order = "DESC" if descending else "ASC"
    rows = query.run(f"ORDER BY 1, 3 {order}, 4 {order}, 2 {order}")
    if rows and rows[0][0] == SHORT_WALK:  # the matches are too sparse in this order: sort them
        return page_positions(
            runs,
            project=project,
            key=key,
            descending=descending != reverse,
            matching=matching,
            narrow=True,
            after=after,
            reverse=reverse,
            limit=limit,
        )
    return [
        Position(
            segments[rank], number if VALUE_COLUMN.get(segments[rank]) == "number" else text, pk
        )
        for rank, pk, number, text in rows
    ]


WALK = 2000  # index entries a page of many matches walks before sorting the matches instead
SHORT_WALK = -1  # the rank of the row that says a walk found too few


class _PageQuery:
    """The one SQL statement of page_positions: parts of at most `limit` rows each, in order,
    with the runs without the key read last and only as far as the page still needs."""

    def __init__(self, limit):
        self.limit = limit
        self.ctes, self.parts, self.missing = [], [], None

    def add(self, rows):
        self.parts.append(_sql(rows[: self.limit]))

    def matched(self, runs) -> RawSQL:
        """The pks of these runs as a set the parts share: a table of its own, materialized
        once."""
        sql, params = _sql(runs.order_by().values("pk"))
        self.ctes.append((f"matched(pk) AS MATERIALIZED ({sql})", params))
        return RawSQL("SELECT pk FROM matched", ())

    def add_walk(self, rows, probe):
        """The first rows in order whose runs the probe finds, among the first WALK; when
        those hold fewer than a page and there are more, a marker row says the walk was too
        short (page_positions then sorts the matching runs instead)."""
        name = f"walk{len(self.parts)}"
        walk_sql, walk_params = _sql(rows[:WALK])
        probe_sql, probe_params = _sql(probe)
        self.ctes += [
            (f"{name}_read AS ({walk_sql})", walk_params),
            (
                f"{name} AS (SELECT * FROM {name}_read AS walk WHERE EXISTS ({probe_sql}"
                " LIMIT 1 OFFSET 0) LIMIT %s)",  # OFFSET 0: see runs.query.compiler.Probe
                [*probe_params, self.limit],
            ),
        ]
        self.parts.append(
            (
                f"SELECT * FROM {name} UNION ALL SELECT {SHORT_WALK}, 0, NULL, NULL WHERE"
                f" (SELECT COUNT(*) FROM {name}) < %s AND (SELECT COUNT(*) FROM {name}_read) >= %s",
                [self.limit, WALK],
            )
        )

    def add_missing(self, rows):
        if not self.parts:  # first in the walk: read as any other part
            self.parts.append(_sql(rows[: self.limit]))
        else:
            self.missing = _sql(rows)

    def run(self, order) -> list:
        ctes, params = [sql for sql, _ in self.ctes], [p for _, ps in self.ctes for p in ps]
        earlier = " UNION ALL ".join(f"SELECT * FROM ({sql}) AS part" for sql, _ in self.parts)
        params += [p for _, ps in self.parts for p in ps]
        if self.missing is None:
            body = earlier
        else:
            # Finding runs without the key may read every run: read it only up to what the
            # runs with a value leave of the page, so not at all when they fill it (LIMIT 0).
            ctes.append(f"earlier AS ({earlier})")
            missing_sql, missing_params = self.missing
            count = "(SELECT COUNT(*) FROM earlier)"
            body = (
                f"SELECT * FROM earlier UNION ALL SELECT * FROM ({missing_sql} LIMIT (CASE"
                f" WHEN {count} < %s THEN %s - {count} ELSE 0 END)) AS missing"
            )
            params += [*missing_params, self.limit, self.limit]
        with_clause = f"WITH {', '.join(ctes)} " if ctes else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"{with_clause}SELECT * FROM ({body}) AS parts {order} LIMIT %s",
                [*params, self.limit],
            )
            return cursor.fetchall()


def _sql(queryset) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


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


def _values(project, key, segment, descending, start):
    """The project's index entries of the key with values of this kind, in the sort's order."""
    column = VALUE_COLUMN.get(segment)
    rows = RunValue.objects.filter(project=project, key_id=key, kind=segment)
    if column is None:
        # (project, key, kind, number IS NULL, run): the (..., number, run) index's own order.
        rows = rows.filter(number__isnull=True)
    if start is not None:
        rows = rows.filter(_beyond(column, start, descending, pk="run_id"))
    order = [column, "run_id"] if column else ["run_id"]
    return rows.order_by(*(f"-{name}" if descending else name for name in order))


def _matched_values(matched, key, segments, descending, after):
    """The key's values of the matched runs, of every kind in `segments`, in their order."""
    kinds = [segment for segment in segments if segment != MISSING]
    rows = RunValue.objects.filter(key_id=key, run_id__in=matched, kind__in=kinds)
    if after is not None and after.segment in kinds:
        later = Q(kind__in=kinds[1:]) if kinds[1:] else Q(pk__in=[])
        column = VALUE_COLUMN.get(after.segment)
        rows = rows.filter(
            later | Q(kind=after.segment) & _beyond(column, after, descending, "run_id")
        )
    rank = Case(
        *(When(kind=kind, then=Value(segments.index(kind))) for kind in kinds),
        output_field=IntegerField(),
    )
    # Within a kind only its own value column is set (the others are NULL), so ordering by
    # both orders each kind by its own.
    order = [f"{'-' if descending else ''}{name}" for name in ("number", "text", "run_id")]
    columns = {"p_rank": rank, **columns_of(kinds[0])}
    return rows.annotate(**columns).order_by("p_rank", *order).values_list(*columns)


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
        runs = runs.filter(~Probe(RunValue.objects.filter(run=OuterRef("pk"), key_id=key)))
    if start is not None:
        runs = runs.filter(_beyond(None, start, descending, pk="pk"))
    return runs.order_by("-pk" if descending else "pk")


def runs_at(positions: list[Position]) -> list[Run]:
    """The runs at these positions, in their order, in one query."""
    runs = Run.objects.filter(pk__in=[p.pk for p in positions]).select_related("author")
    by_pk = {run.pk: run for run in runs}
    return [by_pk[p.pk] for p in positions if p.pk in by_pk]
