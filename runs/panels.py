"""Workspace panels: scatter, parallel coordinates, bar and correlation charts of the runs the
table's filter selects, described by repeatable `panel` GET parameters so that links and saved
views restore them.

A panel is written `kind:argument:argument…`, keys as the query language writes them:

    scatter:<x>:<y>[:<colour>]          scatter:summary.loss:summary.val/acc:config.lr
    parallel:<axis>,<axis>…:<metric>    parallel:config.lr,config.optimizer:summary.acc
    bar:<metric>:<group>                bar:summary.acc:config.optimizer
    correlation:<metric>                correlation:summary.val/acc

Keys are `summary.…` or `config.…`; a colour or a group may also be the run field `group`,
`job_type` or `state`. A part of a key that holds a colon, a comma or a space is quoted with
backticks, as in a query: summary.`val:acc`.

All panels of a page read ONE query: the values of every key they name, for the most recent
RUN_CAP runs the filter selects (panel_rows, the one read to re-point at an index of values)."""

import json
from dataclasses import dataclass

from django.db.models import Case, CharField, F, Field, Value, When

from . import query
from .models import Run
from .query.json_keys import JSONKeyValue, json_key_is
from .query.nodes import Exists, json_key
from .query.text import PLAIN_KEY

KINDS = {
    "scatter": "Scatter",
    "parallel": "Parallel coordinates",
    "bar": "Bar",
    "correlation": "Correlation",
}
RUN_FIELDS = ("group", "job_type", "state")
MAX_PANELS = 12
MAX_AXES = 12
MAX_SPEC = 1000
RUN_CAP = 1000
QUOTES = "`\"'"


class PanelSpecError(ValueError):
    """A panel parameter that names no chart; its message is shown on the panel."""


@dataclass(frozen=True)
class Panel:
    kind: str
    x: str = ""  # scatter
    y: str = ""  # scatter
    color: str = ""  # scatter, optional
    axes: tuple[str, ...] = ()  # parallel
    metric: str = ""  # parallel, bar, correlation
    group: str = ""  # bar

    @property
    def keys(self) -> list[str]:
        """The keys whose values the panel reads."""
        named = [self.x, self.y, self.color, *self.axes, self.metric, self.group]
        return [key for key in named if key]

    def spec(self) -> str:
        """The panel's parameter, as parse_spec reads it back."""
        if self.kind == "scatter":
            parts = [format_key(key) for key in (self.x, self.y, self.color) if key]
        elif self.kind == "parallel":
            parts = [",".join(format_key(axis) for axis in self.axes), format_key(self.metric)]
        elif self.kind == "bar":
            parts = [format_key(self.metric), format_key(self.group)]
        else:
            parts = [format_key(self.metric)]
        return ":".join([self.kind, *parts])

    @property
    def title(self) -> str:
        if self.kind == "scatter":
            colour = f", colour {self.color}" if self.color else ""
            return f"{self.y} against {self.x}{colour}"
        if self.kind == "parallel":
            return f"{', '.join(self.axes)} → {self.metric}"
        if self.kind == "bar":
            return f"Mean {self.metric} by {self.group}"
        return f"Correlation of each config key with {self.metric}"


def parse_spec(text: str) -> Panel:
    """The panel a `panel` parameter describes; PanelSpecError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise PanelSpecError("The panel is empty.")
    if len(text) > MAX_SPEC:
        raise PanelSpecError(f"The panel is longer than {MAX_SPEC} characters.")
    kind, *parts = split(text.strip(), ":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        shown = kind[:30]
        raise PanelSpecError(f"“{shown}” is not a panel kind: use {', '.join(KINDS)}.")
    if kind == "scatter":
        if len(parts) not in (2, 3):
            raise PanelSpecError("A scatter panel is scatter:<x>:<y> or scatter:<x>:<y>:<colour>.")
        color = _key(parts[2], "colour", run_fields=True) if len(parts) == 3 else ""
        return Panel(kind, x=_key(parts[0], "x"), y=_key(parts[1], "y"), color=color)
    if kind == "parallel":
        if len(parts) != 2:
            raise PanelSpecError("A parallel panel is parallel:<axis>,<axis>…:<metric>.")
        axes = tuple(_key(axis, "axis") for axis in split(parts[0], ","))
        if len(axes) > MAX_AXES:
            raise PanelSpecError(f"A parallel panel has at most {MAX_AXES} axes.")
        if len(set(axes)) != len(axes):
            raise PanelSpecError("A parallel panel names each axis once.")
        return Panel(kind, axes=axes, metric=_key(parts[1], "metric"))
    if kind == "bar":
        if len(parts) != 2:
            raise PanelSpecError("A bar panel is bar:<metric>:<group>.")
        return Panel(kind, metric=_key(parts[0], "metric"), group=_key(parts[1], "group", True))
    if len(parts) != 1:
        raise PanelSpecError("A correlation panel is correlation:<metric>.")
    return Panel(kind, metric=_key(parts[0], "metric"))


def split(text: str, separator: str) -> list[str]:
    """`text` cut at each `separator` outside quotes (`…`, "…", '…'; a backslash escapes)."""
    parts, current, quote, escaped = [], [], None, False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
            current.append(char)
        elif char in QUOTES:
            quote = char
            current.append(char)
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quote:
        raise PanelSpecError(f"A {quote} quote is not closed.")
    parts.append("".join(current))
    return parts


def _key(text: str, what: str, run_fields: bool = False) -> str:
    """The field a key names (`summary.val acc` for summary.`val acc`), read by the query
    language so that a panel writes keys exactly as a query does."""
    written = text.strip()
    if not written:
        raise PanelSpecError(f"The {what} is missing.")
    if run_fields and written in RUN_FIELDS:
        return written
    try:
        node = query.parse_text(f"{written} exists")
    except query.QueryError as error:
        raise PanelSpecError(f"The {what} “{written[:60]}” is not a key: {error}.") from None
    field = node.field if isinstance(node, Exists) and node.present else None
    if field is None or json_key(field) is None:
        others = f", {', '.join(RUN_FIELDS)}" if run_fields else ""
        raise PanelSpecError(
            f"The {what} “{written[:60]}” is not a key: use summary.<key> or config.<key>{others}."
        )
    return field


def format_key(field: str) -> str:
    """How a panel writes a field: the query's way, quoting parts a panel would cut."""
    if field in RUN_FIELDS:
        return field
    column, _, key = field.partition(".")
    pieces = [
        piece
        if PLAIN_KEY.fullmatch(piece) and ":" not in piece
        else "`" + piece.replace("\\", "\\\\").replace("`", "\\`") + "`"
        for piece in key.split(".")
    ]
    return ".".join([column, *pieces])


def parse_params(params) -> list[tuple[str, Panel | None, str]]:
    """Each `panel` parameter (at most MAX_PANELS) as (its text, the panel or None, the
    mistake or "")."""
    panels = []
    for text in params.getlist("panel")[:MAX_PANELS]:
        try:
            panels.append((text, parse_spec(text), ""))
        except PanelSpecError as error:
            panels.append((text, None, str(error)))
    return panels


# The one read


class _Decoded(Field):
    """A JSON value as Python reads it: PostgreSQL sends jsonb as JSON text, SQLite sends
    numbers as numbers and text as text (the leaderboard reads its values the same way)."""

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str) and connection.vendor == "postgresql":
            return json.loads(value)
        return value


class _DecodedValue(JSONKeyValue):
    output_field = _Decoded()


JSON_KINDS = ("number", "string", "boolean")


def _kind_of(column: str, path: tuple):
    return Case(
        *(When(json_key_is(column, path, kind), then=Value(kind)) for kind in JSON_KINDS),
        default=Value(None),
        output_field=CharField(),
    )


def _value(raw, kind):
    """A key's value in Python: a number (never a bool), text, a bool, or None for anything
    else (missing, null, objects, lists)."""
    if raw is None or kind is None:
        return None
    if kind == "number":
        return float(raw)
    if kind == "boolean":
        return bool(raw) if not isinstance(raw, str) else raw == "true"
    return str(raw)


@dataclass
class PanelRows:
    rows: list[dict]  # {"run_id", "name", field: value…, "config": {...} when asked}
    cap: int  # the most runs read
    capped: bool  # more runs matched than that


def panel_rows(project, run_filter, fields: list[str], *, with_config: bool) -> PanelRows:
    """The values of `fields` (summary/config keys, run fields) of the most recent RUN_CAP runs
    the filter selects, most recent first, in one query; with the whole config if asked."""
    annotations, aliases = {}, {}
    for index, field in enumerate(dict.fromkeys(fields)):
        if field in RUN_FIELDS:
            annotations[f"f{index}"] = F(field)
            aliases[field] = (f"f{index}", None)
            continue
        column, path = json_key(field)
        annotations[f"v{index}"] = _DecodedValue(column, path)
        annotations[f"k{index}"] = _kind_of(column, path)
        aliases[field] = (f"v{index}", f"k{index}")
    names = ["run_id", "name", *(["config"] if with_config else [])]
    runs = (
        run_filter.apply(Run.objects.filter(project=project))
        .order_by("-created_at", "-pk")
        .annotate(**annotations)
        .values(*names, *annotations)[: RUN_CAP + 1]
    )
    rows = []
    for record in runs:
        row = {name: record[name] for name in names}
        for field, (value_alias, kind_alias) in aliases.items():
            if kind_alias is None:
                row[field] = record[value_alias] or None
            else:
                row[field] = _value(record[value_alias], record[kind_alias])
        rows.append(row)
    return PanelRows(rows=rows[:RUN_CAP], cap=RUN_CAP, capped=len(rows) > RUN_CAP)
