"""The run-query model: one small tree that every way of asking for runs is translated into
(the runs table's filters, the client's MongoDB-style `api.runs(filters=...)`, later a text
query language, saved views and alert rules), and that one compiler turns into ORM queries.

Fields are run fields (`state`, `name` — the display name, `run_id`, `author`, `group`,
`job_type`, `tags`, `created_at`, `heartbeat_at`, `runtime`) or keys of the run's JSON:
`config.<key>` and `summary.<key>`, where dots reach into nested objects (`summary.final.loss`);
a key that itself holds dots (`summary.val.loss` logged as one name) is found first."""

from dataclasses import dataclass
from datetime import datetime

MAX_DEPTH = 50
MAX_NODES = 500
MAX_TEXT = 1000

RUN_FIELDS = {
    "state",
    "name",
    "run_id",
    "author",
    "group",
    "job_type",
    "tags",
    "created_at",
    "heartbeat_at",
    "runtime",
    "sweep",
}
JSON_COLUMNS = ("config", "summary")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=")

Scalar = str | int | float | bool | datetime | None


class QueryError(ValueError):
    """A query Teamsite cannot answer; the message names what is unsupported. For a text query
    `column` is the 1-based position of the mistake (None where there is no text to point at)."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class And:
    items: tuple  # no items: every run


@dataclass(frozen=True)
class Or:
    items: tuple  # no items: no run


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Scalar


@dataclass(frozen=True)
class In:
    field: str
    values: tuple
    negate: bool = False


@dataclass(frozen=True)
class Regex:
    field: str
    pattern: str


@dataclass(frozen=True)
class Contains:
    """Case-insensitive substring: the runs table's search box."""

    field: str
    text: str


@dataclass(frozen=True)
class Exists:
    field: str
    present: bool = True


@dataclass(frozen=True)
class HasTag:
    tag: str


Node = And | Or | Not | Compare | In | Regex | Contains | Exists | HasTag


def json_key(field: str) -> tuple[str, tuple[str, ...]] | None:
    """("summary", ("final", "loss")) for "summary.final.loss"; None for a run field."""
    column, dot, key = field.partition(".")
    if column in JSON_COLUMNS and dot:
        path = tuple(key.split("."))
        if not all(path):
            raise QueryError(f"“{field}” has an empty key.")
        return column, path
    return None


def check_field(field) -> None:
    if not isinstance(field, str) or len(field) > MAX_TEXT:
        raise QueryError("A field must be a name.")
    if field not in RUN_FIELDS and json_key(field) is None:
        raise QueryError(f"Runs have no field “{field}”.")


def check(node) -> None:
    """Refuse trees too deep or too large to compile, and anything that is not a node."""
    count = 0

    def walk(node, depth):
        nonlocal count
        count += 1 + (len(node.values) if isinstance(node, In) else 0)
        if depth > MAX_DEPTH:
            raise QueryError(f"The query is nested deeper than {MAX_DEPTH} levels.")
        if count > MAX_NODES:
            raise QueryError(f"The query has more than {MAX_NODES} conditions.")
        if isinstance(node, (And, Or)):
            for item in node.items:
                walk(item, depth + 1)
        elif isinstance(node, Not):
            walk(node.item, depth + 1)
        elif isinstance(node, (Compare, In, Regex, Contains, Exists)):
            check_field(node.field)
        elif not isinstance(node, HasTag):
            raise QueryError(f"Not a query: {type(node).__name__}.")

    walk(node, 0)
