"""Grouping runs by up to three keys (config keys, the run's group, its job type, its tags), with
the number of runs and the mean, standard deviation, lowest and highest value of metrics per
group: the runs table's grouped rows, and the groups the workspace charts draw.

The database groups and aggregates in one query, GROUP BY over each key's JSON expression;
Python only names the rows. A run with several tags is in the group of each of its tags; runs
without a key's value form a group of their own. The reads are the few functions here, so that
an index of config and summary values can later serve them."""

import json
import math
from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, F, FloatField, Value, When
from django.db.models.functions import Cast

from . import query
from .models import Run, RunValue
from .query import compiler
from .query.json_keys import JSONKeyKind, JSONKeyValue, json_key_is
from .query.nodes import MAX_TEXT, json_key
from .query.text import UNSEARCHABLE
from .values import INDEXED_TEXT

MAX_GROUP_KEYS = 3
MAX_GROUPS = 200
DEFAULT_METRICS = 4
SAMPLE_RUNS = 200  # the latest runs whose summaries name the default metrics
MAX_GROUP_PARAMS = 10
# Run fields runs group by, besides config keys, with their labels.
RUN_FIELD_KEYS = {"group": "group", "job_type": "job type", "tags": "tags"}
# SQLite's names of JSON types, as PostgreSQL (and the query language) name them.
SQLITE_KINDS = {
    "integer": "number",
    "real": "number",
    "text": "string",
    "true": "boolean",
    "false": "boolean",
}


@dataclass(frozen=True)
class GroupKey:
    field: str  # "config.lr", "config.optimizer.name", "group", "job_type" or "tags"

    @property
    def json_path(self):
        """("config", ("optimizer", "name")) for a config key; None for a run field."""
        return None if self.field in RUN_FIELD_KEYS else json_key(self.field)

    @property
    def label(self) -> str:
        return RUN_FIELD_KEYS.get(self.field) or self.field.removeprefix("config.")

    @property
    def query_field(self) -> str:
        """The key as the query language writes it."""
        if self.field in RUN_FIELD_KEYS:
            return self.field
        return query.quote_key("config", self.field.removeprefix("config."))


def parse_group_keys(params, project=None) -> tuple[list[GroupKey], str | None]:
    """The keys the `group` parameters name (repeated, or a comma list), once each and at most
    MAX_GROUP_KEYS, and a message naming what was ignored (None when nothing was). `project`
    is for a later check against the project's own keys."""
    if hasattr(params, "getlist"):  # a QueryDict
        values = params.getlist("group")
    else:  # a dict: {"group": "config.lr"} or {"group": ["config.lr", "tags"]}
        values = params.get("group") or []
        values = [values] if isinstance(values, str) else list(values)
    keys, refused = [], []
    for value in values[:MAX_GROUP_PARAMS]:
        for name in str(value).split(","):
            name = name.strip()
            if not name:
                continue
            key = _group_key(name)
            if key is None:
                refused.append(name)
            elif key not in keys:
                keys.append(key)
    problems = []
    if refused:
        names = ", ".join(f"“{name[:60]}”" for name in refused[:3])
        problems.append(
            f"Runs cannot be grouped by {names}: group by a config key (config.lr),"
            " group, job_type or tags."
        )
    if len(keys) > MAX_GROUP_KEYS:
        keys = keys[:MAX_GROUP_KEYS]
        problems.append(f"Runs group by at most {MAX_GROUP_KEYS} keys: the first ones are used.")
    return keys, " ".join(problems) or None


def _group_key(name: str) -> GroupKey | None:
    if name in RUN_FIELD_KEYS:
        return GroupKey(name)
    # A NUL or a lone surrogate cannot reach the database (PostgreSQL refuses them in text).
    if len(name) > MAX_TEXT or not name.startswith("config.") or UNSEARCHABLE.search(name):
        return None
    try:
        path = json_key(name)
    except query.QueryError:  # an empty part: config.a..b
        return None
    return GroupKey(name) if path is not None else None


@dataclass(frozen=True)
class GroupValue:
    kind: str  # "number", "string", "boolean", "null", "object", "array" or "missing"
    value: object = None

    def __str__(self):
        if self.kind == "missing":
            return "(none)"
        if self.kind in ("null", "boolean", "object", "array"):
            return json.dumps(self.value)
        return str(self.value)

    def node(self, key: GroupKey):
        """The query condition that selects the runs of this group; None where the query
        language cannot name the value (objects, lists)."""
        field = key.field
        if self.kind == "missing":
            return query.Not(query.Exists(field))
        if field == "tags":
            return query.HasTag(str(self.value))
        if self.kind == "null":
            return query.And((query.Compare(field, "=", None), query.Exists(field)))
        if self.kind in ("number", "string", "boolean"):
            return query.Compare(field, "=", self.value)
        return None

    def text(self, key: GroupKey) -> str | None:
        """The same condition in the text query language."""
        field = key.query_field
        if self.kind == "missing":
            return f"not {field} exists"
        if key.field == "tags":
            return f"tags has {quote_text(str(self.value))}"
        if self.kind == "null":
            return f"{field} = null and {field} exists"
        if self.kind == "string":
            return f"{field} = {quote_text(self.value)}"
        if self.kind in ("number", "boolean"):
            return f"{field} = {json.dumps(self.value)}"
        return None


def quote_text(text: str) -> str:
    """A value as a quoted string of the query language (a backslash escapes `"` and itself)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class MetricStats:
    count: int  # runs of the group with a number for the metric
    mean: float | None
    std: float | None  # population standard deviation
    min: float | None
    max: float | None


@dataclass(frozen=True)
class GroupRow:
    values: tuple  # a GroupValue per key
    count: int
    metrics: tuple = ()  # a MetricStats per metric

    def node(self, keys):
        nodes = [value.node(key) for key, value in zip(keys, self.values, strict=True)]
        return None if None in nodes else query.And(tuple(nodes))

    def query_text(self, keys, within: str = "") -> str | None:
        """The text query of this group's runs within the query `within`; None where the
        language cannot name the group or the query would be too long."""
        parts = [value.text(key) for key, value in zip(keys, self.values, strict=True)]
        if None in parts:
            return None
        text = " and ".join(parts)
        if within.strip():
            text = f"({within}) and {text}"
        return text if len(text) <= MAX_TEXT else None


def metric_number(field: str):
    """A config or summary key's value where it is a number, else NULL."""
    column, path = json_key(field)
    return Case(
        When(
            json_key_is(column, path, "number"),
            then=Cast(JSONKeyValue(column, path), FloatField()),
        ),
        default=Value(None),
        output_field=FloatField(),
    )


def group_rows(
    runs, keys: list[GroupKey], metrics: list[str], limit: int, *, project=None, filtered=True
) -> list[GroupRow]:
    """The groups of `runs` (a queryset of runs) by `keys`, largest first (then by value), at
    most `limit`, with each metric's statistics (summary or config keys): one query. Given the
    runs' `project` (and whether a filter narrows them), one config key is grouped through
    the index of values (runs.values): see indexed_group_rows."""
    if not keys:
        return []
    if project is not None and len(keys) == 1 and keys[0].json_path:
        return indexed_group_rows(runs, keys[0], metrics, limit, project, filtered)
    quote = connection.ops.quote_name
    annotations = {}
    for index, key in enumerate(keys):
        path = key.json_path
        annotations[f"grp{index}"] = JSONKeyValue(*path) if path else F(key.field)
        if path:
            annotations[f"kind{index}"] = JSONKeyKind(*path)
    for index, metric in enumerate(metrics):
        annotations[f"m{index}"] = metric_number(metric)
    inner = runs.order_by().annotate(**annotations).values(*annotations)
    inner_sql, params = inner.query.sql_with_params()

    postgresql = connection.vendor == "postgresql"
    columns, joins = [], []
    for index, key in enumerate(keys):
        value = f"r.{quote(f'grp{index}')}"
        if key.field == "tags":
            joins.append(_tags_join(value, f"tag{index}", postgresql))
            columns.append(f"tag{index}.value")
        elif key.json_path:
            columns += [_kind_sql(f"r.{quote(f'kind{index}')}", postgresql), value]
        else:
            columns.append(value)
    aggregates = ["COUNT(*)"]
    for index in range(len(metrics)):
        value = f"r.{quote(f'm{index}')}"
        # SQLite has no standard deviation: the mean of squares gives it.
        spread = f"STDDEV_POP({value})" if postgresql else f"AVG({value} * {value})"
        aggregates += [f"COUNT({value})", f"AVG({value})", spread, f"MIN({value})", f"MAX({value})"]
    grouped = ", ".join(columns)
    # A fence that keeps the database from merging the subquery into the grouped query, where
    # every mention of a key (each of a metric's five aggregates; the kind in SELECT, GROUP BY
    # and ORDER BY) would read the run's JSON again: read once per run, a metric costs a fifth
    # and a key on SQLite two thirds. Neither database merges a subquery with LIMIT or OFFSET.
    fence = " OFFSET 0" if postgresql else " LIMIT -1"
    sql = (
        f"SELECT {grouped}, {', '.join(aggregates)} FROM ({inner_sql}{fence}) AS r"
        f" {' '.join(joins)} "
        f"GROUP BY {grouped} ORDER BY COUNT(*) DESC, {grouped} LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [_row(keys, len(metrics), row, postgresql) for row in cursor.fetchall()]


def _tags_join(tags_sql: str, alias: str, postgresql: bool) -> str:
    """One row per tag of a run, or one row with NULL for a run without tags."""
    if postgresql:
        return (
            f"LEFT JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof({tags_sql})"
            f" = 'array' THEN {tags_sql} ELSE '[]'::jsonb END) AS {alias}(value) ON TRUE"
        )
    return (
        f"LEFT JOIN json_each(CASE WHEN json_type({tags_sql}) = 'array'"
        f" THEN {tags_sql} ELSE '[]' END) AS {alias}"
    )


def _kind_sql(kind_sql: str, postgresql: bool) -> str:
    """The kind under PostgreSQL's names, so 1 and 1.0 (SQLite: integer, real) group together
    and true stays apart from 1 (SQLite reads both as 1)."""
    if postgresql:
        return kind_sql
    whens = " ".join(f"WHEN '{name}' THEN '{kind}'" for name, kind in SQLITE_KINDS.items())
    return f"(CASE {kind_sql} {whens} ELSE {kind_sql} END)"


def _row(keys, metric_count, row, postgresql) -> GroupRow:
    values, at = [], 0
    for key in keys:
        if key.json_path:
            kind, raw = row[at], row[at + 1]
            at += 2
            values.append(_json_group_value(kind, raw, postgresql))
        else:
            raw = row[at]
            at += 1
            missing = raw is None or raw == ""
            values.append(GroupValue("missing") if missing else GroupValue("string", raw))
    return _stats_row(tuple(values), row[at:], metric_count, postgresql)


def _json_group_value(kind, raw, postgresql) -> GroupValue:
    if kind is None:
        return GroupValue("missing")
    if postgresql:  # jsonb arrives as JSON text
        raw = json.loads(raw)
    if kind == "number":
        return GroupValue(kind, _number(raw))
    if postgresql:
        return GroupValue(kind, raw)
    if kind == "boolean":
        return GroupValue(kind, bool(raw))
    if kind in ("object", "array"):
        return GroupValue(kind, json.loads(raw))
    return GroupValue(kind, raw)


def default_metrics(project, limit: int = DEFAULT_METRICS) -> list[str]:
    """The summary keys that hold numbers in most of the project's latest runs (nested ones by
    their dotted path), for a grouped table without columns of its own."""
    counts = Counter()
    summaries = Run.objects.filter(project=project).values_list("summary", flat=True)
    for summary in summaries[:SAMPLE_RUNS]:
        if isinstance(summary, dict):
            counts.update(set(_number_keys(summary)))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [f"summary.{name}" for name, _ in ranked[:limit]]


def _number_keys(data: dict, prefix: str = ""):
    for key, value in data.items():
        if key.startswith("_"):
            continue
        if isinstance(value, dict):
            yield from _number_keys(value, f"{prefix}{key}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield f"{prefix}{key}"


def group_members_sql(runs, keys, groups: list[GroupRow], per_group: int, *, window: int):
    """(sql, params) of a query of (grp, member): the latest `per_group` runs of each group
    among the latest `window` runs, `grp` the group's index in `groups`, `member` the run's
    primary key. The window bounds the work: a group of one run among a million would
    otherwise be looked for through all of them. Groups the query language cannot name
    (objects, lists) have no members. None when no group has any."""
    latest = runs.order_by("-created_at", "-pk").values("pk")[:window]
    parts, all_params = [], []
    for index, group in enumerate(groups):
        node = group.node(keys)
        if node is None:
            continue
        members = (
            Run.objects.filter(pk__in=latest)
            .filter(query.to_q(node))
            .order_by("-created_at", "-pk")
            .annotate(member=F("pk"))
            .values("member")[:per_group]
        )
        sql, params = members.query.sql_with_params()
        parts.append(f"SELECT {index} AS grp, s.member FROM ({sql}) AS s")
        all_params += params
    if not parts:
        return None
    return " UNION ALL ".join(parts), all_params


# Grouping by one config key through the index of values: the groups are ranges of the
# (project, key, kind, value) index, read without touching runs or their JSON; each metric is
# a lookup of the same run's value. Runs without the key, if any, form one more group.
INDEXED_KINDS = {
    RunValue.Kind.NUMBER: "number",
    RunValue.Kind.STRING: "string",
    RunValue.Kind.BOOLEAN: "boolean",
    RunValue.Kind.NULL: "null",
    RunValue.Kind.OBJECT: "object",
    RunValue.Kind.ARRAY: "array",
}


def indexed_group_rows(runs, key: GroupKey, metrics, limit, project, filtered) -> list[GroupRow]:
    column, path = key.json_path
    names = {(column, ".".join(path))} | {_metric_name(metric) for metric in metrics}
    key_ids = compiler.resolve_key_ids(names)
    group_key = key_ids[column, ".".join(path)]
    postgresql = connection.vendor == "postgresql"
    table = RunValue._meta.db_table
    joins, aggregates, params = [], ["COUNT(*)"], []
    for index, metric in enumerate(metrics):
        value = f"m{index}.number"
        joins.append(
            f"LEFT JOIN {table} m{index} ON m{index}.run_id = g.run_id"
            f" AND m{index}.key_id = %s AND m{index}.kind = %s"
        )
        params += [key_ids[_metric_name(metric)], RunValue.Kind.NUMBER]
        spread = f"STDDEV_POP({value})" if postgresql else f"AVG({value} * {value})"
        aggregates += [f"COUNT({value})", f"AVG({value})", spread, f"MIN({value})", f"MAX({value})"]
    where, where_params = "g.project_id = %s AND g.key_id = %s", [project.pk, group_key]
    if filtered:
        members_sql, members_params = runs.order_by().values("pk").query.sql_with_params()
        where += f" AND g.run_id IN ({members_sql})"
        where_params += list(members_params)
    # Ties in size go by kind as the JSON's own type names sort, then by value.
    kind_order = " ".join(
        f"WHEN {kind} THEN {rank}"
        for rank, kind in enumerate(sorted(INDEXED_KINDS, key=INDEXED_KINDS.get))
    )
    selected = f"{', '.join(aggregates)} FROM {table} g {' '.join(joins)} WHERE {where}"
    if postgresql:  # one hash aggregate over the key's entries
        sql = (
            f"SELECT g.kind, g.number, g.text, {selected}"
            f" GROUP BY g.kind, g.number, g.text ORDER BY 4 DESC, CASE g.kind {kind_order} END,"
            f" g.number, g.text LIMIT %s"
        )
    else:
        # SQLite groups in index order: text, and the rest, each read in the order of its own
        # index, (kind, text) and (kind, number), so neither sorts a million entries first.
        sql = (
            f"SELECT * FROM (SELECT * FROM (SELECT g.kind AS kind, g.number AS number,"
            f" CAST(NULL AS VARCHAR({INDEXED_TEXT})) AS text, {selected} AND g.kind <> %s"
            f" GROUP BY g.kind, g.number) AS others UNION ALL"
            f" SELECT * FROM (SELECT g.kind, CAST(NULL AS DOUBLE PRECISION), g.text, {selected}"
            " AND g.kind = %s GROUP BY g.kind, g.text) AS texts) AS grouped"
            f" ORDER BY 4 DESC, CASE kind {kind_order} END, number, text LIMIT %s"
        )
    text = RunValue.Kind.STRING
    rows = []
    if group_key is not None:
        with connection.cursor() as cursor:
            part = [*params, *where_params]
            if postgresql:
                cursor.execute(sql, [*part, limit])
            else:
                cursor.execute(sql, [*part, text, *part, text, limit])
            for kind, number, text, *stats in cursor.fetchall():
                value = _indexed_value(kind, number, text)
                rows.append(_stats_row((value,), stats, len(metrics), postgresql))
    # The index groups objects and lists by kind alone: those runs (few, in practice) are
    # grouped by their whole values from the JSON.
    nested = [row for row in rows if row.values[0].kind in ("object", "array")]
    if nested:
        rows = [row for row in rows if row not in nested]
        rows += group_rows(
            runs.filter(json_key_is(column, path, "object", "array")), [key], metrics, limit
        )
    missing = runs.count() - sum(row.count for row in rows) if len(rows) < limit else 0
    if missing > 0:
        without = runs.filter(~query.to_q(query.Exists(key.field)))
        rows += group_rows(without, [key], metrics, 1)
    rows.sort(key=lambda row: -row.count)  # stable: later additions after equal ones
    return rows[:limit]


def _number(value):
    """1 for 1 and 1.0 alike, which group together: the group shows one way of writing it."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _metric_name(metric: str) -> tuple[str, str]:
    column, path = json_key(metric)
    return column, ".".join(path)


def _indexed_value(kind, number, text) -> GroupValue:
    name = INDEXED_KINDS[kind]
    if name == "number":
        return GroupValue(name, _number(number))
    if name == "boolean":
        return GroupValue(name, bool(number))
    if name == "string":
        return GroupValue(name, text)
    return GroupValue(name)  # null; objects and lists, regrouped from the JSON


def _stats_row(values, stats, metric_count, postgresql) -> GroupRow:
    """The group of these values from its aggregates: the count, then for each metric the
    count of numbers, mean, spread (PostgreSQL: the standard deviation; SQLite: the mean of
    squares), min and max."""
    count, at, metrics = stats[0], 1, []
    for _ in range(metric_count):
        numbers, mean, spread, low, high = stats[at : at + 5]
        at += 5
        if numbers and not postgresql and spread is not None:
            spread = math.sqrt(max(spread - mean * mean, 0.0))
        metrics.append(MetricStats(numbers, mean, spread if numbers else None, low, high))
    return GroupRow(values=values, count=count, metrics=tuple(metrics))
