"""SQL over one key of a run's JSON column (`config` or `summary`), for SQLite and PostgreSQL:
whether the key holds a value of some kinds (and compares so with a value), and its value,
kind and sort rank for ORDER BY. A key with dots in its name is looked up before the nested
objects the dots walk into."""

import json

from django.db.models import BooleanField, CharField, F, Func, IntegerField, JSONField, Q

from .nodes import QueryError

# SQLite names integer and real numbers apart, and true and false.
SQLITE_KINDS = {
    "number": ("integer", "real"),
    "string": ("text",),
    "boolean": ("true", "false"),
    "null": ("null",),
    "object": ("object",),
    "array": ("array",),
    "missing": ("missing",),
}
MAX_SQLITE_INTEGER = 2**63 - 1


def _candidate_paths(path: tuple) -> list[tuple]:
    """A key with dots in its name first, then the nested objects the dots walk into."""
    return [path] if len(path) == 1 else [(".".join(path),), path]


def _sqlite_path(keys) -> str:
    return "$" + "".join("." + json.dumps(key) for key in keys)


def _json_value_sql(column_sql, column_params, path, vendor):
    """(value, kind) SQL of a key: the value as the database compares it (jsonb on PostgreSQL,
    SQLite's own number or text), and its JSON type, both SQL NULL when the key is missing."""
    paths = _candidate_paths(path)
    if vendor == "postgresql":
        if len(paths) == 1:
            value, params = f"({column_sql} -> %s)", [*column_params, path[0]]
        else:
            value = f"COALESCE({column_sql} -> %s, {column_sql} #> %s)"
            params = [*column_params, paths[0][0], *column_params, list(path)]
        return (value, params), (f"jsonb_typeof({value})", params)
    if vendor != "sqlite":
        raise QueryError(f"Querying run keys is not supported on {vendor}.")
    first = _sqlite_path(paths[0])
    if len(paths) == 1:
        return (
            (f"json_extract({column_sql}, %s)", [*column_params, first]),
            (f"json_type({column_sql}, %s)", [*column_params, first]),
        )
    nested = _sqlite_path(paths[1])
    both = [*column_params, first, *column_params, first, *column_params, nested]
    return (
        (
            f"CASE WHEN json_type({column_sql}, %s) IS NOT NULL"
            f" THEN json_extract({column_sql}, %s) ELSE json_extract({column_sql}, %s) END",
            both,
        ),
        (
            f"COALESCE(json_type({column_sql}, %s), json_type({column_sql}, %s))",
            [*column_params, first, *column_params, nested],
        ),
    )


class JSONKeyTest(Func):
    """Whether a key's JSON type is one of `kinds` and, given an `op`, its value compares so
    with `value`. Comparisons see only values of the kind, so numbers compare as numbers and
    text as text on both databases."""

    output_field = BooleanField()

    def __init__(self, column, path, *, kinds, op=None, value=None, negate=False):
        super().__init__(F(column))
        self.path, self.kinds, self.op, self.value, self.negate = path, kinds, op, value, negate

    def as_sql(self, compiler, connection, **extra):
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        vendor = connection.vendor
        (value_sql, value_params), (kind_sql, kind_params) = _json_value_sql(
            column_sql, column_params, self.path, vendor
        )
        names = [
            name
            for kind in self.kinds
            for name in (SQLITE_KINDS[kind] if vendor == "sqlite" else (kind,))
        ]
        placeholders = ", ".join(["%s"] * len(names))
        sql = f"COALESCE({kind_sql}, 'missing') {'NOT ' if self.negate else ''}IN ({placeholders})"
        params = [*kind_params, *names]
        if self.op is None:
            return f"({sql})", params
        if self.kinds == ("string",):
            if vendor == "postgresql":
                value_sql = f"({value_sql} #>> '{{}}')"
            operator = {"~": "~" if vendor == "postgresql" else "REGEXP"}.get(self.op, self.op)
            return f"({sql} AND {value_sql} {operator} %s)", [*params, *value_params, self.value]
        if vendor == "postgresql":
            # jsonb against jsonb: numbers compare exactly, however large, and nothing is cast.
            return (
                f"({sql} AND {value_sql} {self.op} %s::jsonb)",
                [*params, *value_params, json.dumps(self.value)],
            )
        value = self.value
        if isinstance(value, int) and abs(value) > MAX_SQLITE_INTEGER:
            value = float(value)
        return f"({sql} AND {value_sql} {self.op} %s)", [*params, *value_params, value]


def json_key_is(column: str, path: tuple, *kinds: str) -> Q:
    """Runs whose key holds a JSON value of one of these kinds ("number", "string", ...)."""
    return Q(JSONKeyTest(column, path, kinds=kinds))


class _JSONKeyFunc(Func):
    """An expression over one key of a JSON column (`config` or `summary`)."""

    def __init__(self, column, path):
        super().__init__(F(column))
        self.path = path


class JSONKeyValue(_JSONKeyFunc):
    """A key's value for ORDER BY: SQL NULL when missing."""

    output_field = JSONField()

    def as_sql(self, compiler, connection, **extra):
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        (value_sql, params), _ = _json_value_sql(
            column_sql, column_params, self.path, connection.vendor
        )
        return value_sql, params


class JSONKeyKind(_JSONKeyFunc):
    """A key's JSON type as the database names it (SQLite: integer, real, text, true, false,
    null, object, array; PostgreSQL: number, string, boolean, null, object, array); SQL NULL
    when the key is missing."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        _, (kind_sql, params) = _json_value_sql(
            column_sql, column_params, self.path, connection.vendor
        )
        return kind_sql, params


class JSONKeyRank(_JSONKeyFunc):
    """Where a key's kind sorts, whichever the direction: numbers, text, true/false, the rest,
    then runs without the key. SQLite and PostgreSQL order kinds differently by themselves."""

    output_field = IntegerField()
    RANKS = {"number": 0, "string": 1, "boolean": 2}

    def as_sql(self, compiler, connection, **extra):
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        vendor = connection.vendor
        _, (kind_sql, params) = _json_value_sql(column_sql, column_params, self.path, vendor)
        whens, when_params = [], []
        for kind, rank in self.RANKS.items():
            for name in SQLITE_KINDS[kind] if vendor == "sqlite" else (kind,):
                whens.append(f"WHEN %s THEN {rank}")
                when_params.append(name)
        missing = len(self.RANKS) + 1
        sql = f"CASE COALESCE({kind_sql}, 'missing') WHEN 'missing' THEN {missing} "
        return f"({sql}{' '.join(whens)} ELSE {missing - 1} END)", [*params, *when_params]
