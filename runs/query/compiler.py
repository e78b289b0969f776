"""The one compiler from the run-query tree to Django ORM conditions and orderings, for SQLite
and PostgreSQL. Every condition is true or false for every run, never SQL NULL, so `Not` means
what it says: `Not(summary.loss < 1)` holds for runs without a loss, as MongoDB's `$not` does."""

import json
import math
import re
from contextvars import ContextVar
from datetime import UTC, datetime

from django.db import connection
from django.db.models import Exists as RowsExist
from django.db.models import (
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan

from ..models import MetricKey, RunValue
from ..values import COLUMNS as VALUE_COLUMNS
from ..values import INDEXED_TEXT, indexable_name
from .json_keys import JSONKeyRank, JSONKeyTest, JSONKeyValue
from .nodes import (
    MAX_TEXT,
    OPERATORS,
    And,
    Compare,
    Contains,
    Exists,
    HasTag,
    In,
    Not,
    Or,
    QueryError,
    Regex,
    check,
    check_field,
    json_key,
)

TEXT_FIELDS = {
    "state": "state",
    "name": "name",
    "run_id": "run_id",
    "author": "author__username",
    "group": "group",
    "job_type": "job_type",
    "sweep": "sweep_link__sweep__name",  # the sweeps app's reverse one-to-one; no import
}
TIME_FIELDS = {"created_at": "created_at", "heartbeat_at": "heartbeat_at"}
NUMBER_FIELDS = {"runtime": "runtime"}
NULLABLE_FIELDS = {"author", "heartbeat_at", "runtime", "sweep"}
LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
NOTHING = Q(pk__in=[])


# Set while compiling for one project's runs, and with the ids of the query's keys: see to_q.
_SET_OF_PROJECT = ContextVar("set_of_project", default=None)
_KEY_IDS = ContextVar("key_ids", default=None)


def to_q(node, *, project=None, key_ids: dict | None = None) -> Q:
    """The condition for `Run.objects.filter(...)`; QueryError for what cannot be answered.

    A condition on a key reads the index of values either as a set of the `project`'s
    matching runs (`pk IN (...)`: its cost grows with the matches, best for counting and for
    narrow queries) or, without a project, by probing each run considered (EXISTS: best when
    walking runs in an order until a page is full, and the query matches many). `key_ids`
    ({(column, name): id or None}, from resolve_key_ids) lets the database's planner see
    which key each condition reads; without, the ids are looked up inside the query."""
    check(node)
    tokens = _SET_OF_PROJECT.set(project), _KEY_IDS.set(key_ids)
    try:
        return _q(node)
    finally:
        _SET_OF_PROJECT.reset(tokens[0])
        _KEY_IDS.reset(tokens[1])


def key_names(node) -> set[tuple[str, str]]:
    """The (column, name) of every config and summary key a query reads."""
    if isinstance(node, (And, Or)):
        return set().union(*(key_names(item) for item in node.items))
    if isinstance(node, Not):
        return key_names(node.item)
    field = getattr(node, "field", None)
    key = json_key(field) if isinstance(field, str) else None
    return {(key[0], ".".join(key[1]))} if key else set()


def match_bound(condition: Q, cap: int) -> tuple[int | None, object]:
    """(bound, rows): an upper bound of the runs a condition compiled for a project (to_q
    with `project`) selects, from the index ranges its key conditions read (each counted up
    to `cap` + 1), and the index rows of the narrowest key condition every match must have
    (None under an `or`); (None, None) when it cannot tell (run fields, negations). At most
    one query per key condition, none where the answer would be None, and none after a
    conjunct proves narrow."""
    if not _bounded(condition):
        return None, None
    if isinstance(condition, tuple):
        return condition[1][: cap + 1].count(), condition[1]
    if condition.connector == Q.AND:
        bound, rows = None, None
        for child in condition.children:
            if _bounded(child):
                found, found_rows = match_bound(child, cap)
                if bound is None or found < bound:
                    bound, rows = found, found_rows
                if bound <= cap:
                    break
        return bound, rows
    return sum(match_bound(child, cap)[0] for child in condition.children), None


def exact_key_rows(condition):
    """For a condition compiled for a project that is one key condition, or an `or` of
    them, the index rows whose number is the number of runs it selects (a UNION of run ids
    for an `or`); None for any other condition."""
    while isinstance(condition, Q) and not condition.negated and len(condition.children) == 1:
        condition = condition.children[0]
    if isinstance(condition, tuple):
        return condition[1] if _bounded(condition) else None
    if condition.negated or condition.connector != Q.OR:
        return None
    rows = [exact_key_rows(child) for child in condition.children]
    if not rows or any(row is None for row in rows):
        return None
    return rows[0].union(*rows[1:])  # UNION, not ALL: a run matching twice counts once


def _bounded(condition) -> bool:
    """Whether match_bound can bound a condition."""
    if isinstance(condition, tuple):
        lookup, rows = condition
        return lookup == "pk__in" and getattr(rows, "model", None) is RunValue
    if not isinstance(condition, Q) or condition.negated or not condition.children:
        return False
    if condition.connector == Q.AND:
        return any(_bounded(child) for child in condition.children)
    return all(_bounded(child) for child in condition.children)


def resolve_key_ids(names) -> dict:
    """{(column, name): id, or None where no run has the key}, in one query."""
    wanted = Q()
    for column, name in names:
        wanted |= Q(stream=VALUE_COLUMNS[column], name=name)
    if not wanted:
        return {}
    streams = {stream: column for column, stream in VALUE_COLUMNS.items()}
    found = {
        (streams[stream], name): pk
        for stream, name, pk in MetricKey.objects.filter(wanted).values_list("stream", "name", "pk")
    }
    return {name: found.get(name) for name in names}


def _q(node) -> Q:
    if isinstance(node, And):
        condition = Q()
        for item in node.items:
            condition &= _q(item)
        return condition
    if isinstance(node, Or):
        if not node.items:
            return NOTHING
        condition = _q(node.items[0])
        for item in node.items[1:]:
            condition |= _q(item)
        return condition
    if isinstance(node, Not):
        inner = _q(node.item)
        return ~inner if inner else NOTHING
    if isinstance(node, HasTag):
        return has_tag(_text(node.tag, "A tag"))
    if node.field == "tags":
        return _tags(node)
    if (key := json_key(node.field)) is not None:
        return _json_condition(node, *key)
    return _run_field(node)


def has_tag(tag: str) -> Q:
    """Runs whose JSON list of tags holds exactly this tag."""
    if connection.vendor == "postgresql":
        return Q(tags__contains=[tag])  # jsonb @>, no text cast
    # SQLite has no JSON containment lookup in Django. The list's JSON text holds each tag
    # encoded as json.dumps encodes it, quotes included, so a case-sensitive search for that
    # encoding matches whole tags only; instr() is several times faster than json_each().
    return Q(GreaterThan(_Instr(F("tags"), Value(json.dumps(tag))), 0))


class _Instr(Func):
    function = "instr"
    output_field = IntegerField()


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise QueryError(f"{what} must be text, not {_kind_of(value)}.")
    if len(value) > MAX_TEXT:
        raise QueryError(f"{what} is longer than {MAX_TEXT} characters.")
    return value


def _kind_of(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "a date"
    return "a list or object"


# Groups both Python's re (SQLite's REGEXP) and PostgreSQL's regular expressions know; others,
# such as (?P<name>...), compile in one and fail in the other, which would be a server error.
PORTABLE_GROUP = re.compile(r"\(\?(?::|=|!|<=|<!)")
LEADING_FLAGS = re.compile(r"\(\?[imsx]+\)")


def _pattern(pattern) -> str:
    pattern = _text(pattern, "A regular expression")
    try:
        re.compile(pattern)
    except re.error as error:
        raise QueryError(f"Invalid regular expression: {error}.") from None
    for group in re.finditer(r"(\\*)\(\?", pattern):
        escaped = len(group.group(1)) % 2 == 1
        start = group.start() + len(group.group(1))
        if escaped or PORTABLE_GROUP.match(pattern, start):
            continue
        if start == 0 and LEADING_FLAGS.match(pattern):
            continue
        raise QueryError(
            "Regular expressions support (?:...), lookarounds and leading flags such as (?i),"
            f" not “{pattern[start : start + 4]}…”."
        )
    return pattern


def _number(value, what: str):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QueryError(f"{what} compares to numbers, not {_kind_of(value)}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise QueryError(f"{what} cannot be compared to {value}.")
    return value


def _tags(node) -> Q:
    if isinstance(node, Compare) and node.op in ("=", "!="):
        condition = has_tag(_text(node.value, "A tag"))
        return condition if node.op == "=" else ~condition
    if isinstance(node, In):
        condition = _q(Or(tuple(HasTag(tag) for tag in node.values)))
        return ~condition if node.negate and node.values else condition
    if isinstance(node, Exists):
        return ~Q(tags=[]) if node.present else Q(tags=[])
    raise QueryError("Tags take a tag, a list of tags or “exists”.")


def _run_field(node) -> Q:
    field = node.field
    check_field(field)
    column = {**TEXT_FIELDS, **TIME_FIELDS, **NUMBER_FIELDS}[field]
    if isinstance(node, Exists):
        if field in NULLABLE_FIELDS:
            present = Q(**{f"{column}__isnull": False})
            if field == "author":
                present &= ~Q(author__username="")
        else:
            present = ~Q(**{column: ""}) if field in TEXT_FIELDS else Q()
        return present if node.present else (~present if present else NOTHING)
    if isinstance(node, Regex):
        if field not in TEXT_FIELDS:
            raise QueryError(f"{field} is not text: match it with comparisons.")
        return Q(**{f"{column}__regex": _pattern(node.pattern)})
    if isinstance(node, Contains):
        if field not in TEXT_FIELDS:
            raise QueryError(f"{field} is not text: match it with comparisons.")
        return Q(**{f"{column}__icontains": _text(node.text, "Search text")})
    if isinstance(node, In):
        if field in TEXT_FIELDS and all(isinstance(value, str) for value in node.values):
            for value in node.values:
                _text(value, field)
            condition = Q(**{f"{column}__in": list(node.values)}) if node.values else NOTHING
        else:
            condition = _q(Or(tuple(Compare(field, "=", value) for value in node.values)))
        return ~condition if node.negate and node.values else condition
    if node.op not in OPERATORS:
        raise QueryError(f"Unknown comparison “{node.op}”.")
    if node.value is None and node.op in ("=", "!="):
        return _run_field(Exists(field, present=node.op == "!="))
    value = _run_field_value(field, node.value)
    if node.op == "!=":
        return ~Q(**{column: value})
    return Q(**{f"{column}__{LOOKUPS[node.op]}": value})


def _run_field_value(field, value):
    if field in TEXT_FIELDS:
        return _text(value, field)
    if field in NUMBER_FIELDS:
        return _number(value, field)
    if not isinstance(value, datetime):
        raise QueryError(f"{field} compares to dates, not {_kind_of(value)}.")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# Keys of the run's config and summary


def _json_condition(node, column, path) -> Q:
    if isinstance(node, Exists):
        return _key_test(column, path, kinds=("missing",), negate=node.present)
    if isinstance(node, Regex):
        return _key_test(column, path, kinds=("string",), op="~", value=_pattern(node.pattern))
    if isinstance(node, Contains):
        raise QueryError("Search text matches run fields; match keys with a regular expression.")
    if isinstance(node, In):
        condition = _q(Or(tuple(Compare(node.field, "=", value) for value in node.values)))
        return ~condition if node.negate and node.values else condition
    if node.op not in OPERATORS:
        raise QueryError(f"Unknown comparison “{node.op}”.")
    if node.op == "!=":
        return ~_json_condition(Compare(node.field, "=", node.value), column, path)
    value = node.value
    if value is None:
        if node.op != "=":
            raise QueryError(f"{node.field} cannot be ordered against null.")
        return _key_test(column, path, kinds=("null", "missing"))
    if isinstance(value, bool):
        if node.op != "=":
            raise QueryError(f"{node.field} cannot be ordered against true/false.")
        return _key_test(column, path, kinds=("boolean",), op="=", value=value)
    if isinstance(value, (int, float)):
        value = _number(value, node.field)
        return _key_test(column, path, kinds=("number",), op=node.op, value=value)
    if isinstance(value, str):
        value = _text(value, node.field)
        return _key_test(column, path, kinds=("string",), op=node.op, value=value)
    raise QueryError(f"{node.field} compares to numbers, text, true/false or null only.")


# A key's conditions read the index of config and summary values (runs.values): one probe of
# (run, key) per run, or a range of the (project, key, kind, value) index, instead of parsing
# the JSON of every run. Only what the index cannot answer exactly (a key name too long to
# index, text longer than its indexed beginning) reads the JSON, and only of runs that have it.

VALUE_LOOKUPS = {**LOOKUPS, "~": "regex"}


def _key_test(column, path, *, kinds, op=None, value=None, negate=False) -> Q:
    name = ".".join(path)
    if not indexable_name(name):
        return Q(JSONKeyTest(column, path, kinds=kinds, op=op, value=value, negate=negate))
    key_ids = _KEY_IDS.get()
    key = key_ids[column, name] if key_ids and (column, name) in key_ids else key_id(column, name)
    values = RunValue.objects.filter(key_id=key)
    if kinds == ("missing",):
        return _having(values) if negate else ~_having(values)
    if kinds == ("null", "missing"):
        return ~_having(values.exclude(kind=RunValue.Kind.NULL))
    if kinds == ("boolean",):
        return _having(values.filter(kind=RunValue.Kind.BOOLEAN, number=float(value)))
    if kinds == ("number",):
        return _having(values.filter(kind=RunValue.Kind.NUMBER, **{_lookup(op): _float(value)}))
    texts = values.filter(kind=RunValue.Kind.STRING)
    whole = texts.annotate(length=Length("text")).filter(length__lt=INDEXED_TEXT)
    cut = texts.annotate(length=Length("text")).filter(length__gte=INDEXED_TEXT)
    if op == "=":
        if len(value) < INDEXED_TEXT:
            return _having(texts.filter(text=value))
        whole, cut = texts.none(), cut.filter(text=value[:INDEXED_TEXT])
    indexed = _having(whole.filter(**{f"text__{VALUE_LOOKUPS[op]}": value}))
    in_json = JSONKeyTest(column, path, kinds=kinds, op=op, value=value)
    return indexed | (_having(cut) & Q(in_json))


def _having(values) -> Q:
    """Runs with one of these indexed values: the project's matching runs as a set, when
    compiling for a project (`to_q(..., project=)`), or else a probe of each run."""
    project = _SET_OF_PROJECT.get()
    if project is not None:
        return Q(pk__in=values.filter(project=project).values("run_id"))
    return Q(Probe(values.filter(run=OuterRef("pk"))))


class Probe(RowsExist):
    """EXISTS, looked up for each row. `OFFSET 0` keeps PostgreSQL from turning it into a
    join that hashes every value of the key first, which is what a walk that stops after a
    page, or a count that stops at its limit, must not wait for."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def _lookup(op) -> str:
    return f"number__{LOOKUPS[op]}"


def _float(value) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float: beyond every indexed number too
        return math.inf if value > 0 else -math.inf


def key_id(column: str, name: str) -> Subquery:
    """The id of a config or summary key (SQL NULL, matching nothing, if no run has it)."""
    return Subquery(
        MetricKey.objects.filter(stream=VALUE_COLUMNS[column], name=name).values("pk")[:1]
    )


# Ordering


def order_by(field: str, *, descending: bool) -> list:
    """The ORDER BY of runs by a field: runs without a value last, the primary key breaking
    ties so that every order is total and offsets page through it exactly."""
    check_field(field)
    if field == "tags":
        raise QueryError("Runs cannot be ordered by their tags.")
    key = json_key(field)
    if key is not None:
        value = JSONKeyValue(*key)
        value = value.desc(nulls_last=True) if descending else value.asc(nulls_last=True)
        return [JSONKeyRank(*key).asc(), value, F("pk").desc() if descending else F("pk").asc()]
    column = {**TEXT_FIELDS, **TIME_FIELDS, **NUMBER_FIELDS}[field]
    expression = F(column)
    nulls = {"nulls_last": True} if field in NULLABLE_FIELDS else {}
    if descending:
        return [expression.desc(**nulls), F("pk").desc()]
    return [expression.asc(**nulls), F("pk").asc()]
