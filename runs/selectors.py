"""The runs table's reads: filters, sorting by any column (summary and config keys included)
and keyset paging, so a page deep into 100k runs costs what the first one does."""

from dataclasses import dataclass, field, replace
from datetime import datetime

from django.core import signing
from django.core.files.storage import default_storage
from django.db.models import Exists, F, JSONField, OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, GreaterThan, IsNull, LessThan

from . import key_order, query
from .models import (
    Alert,
    ConsoleLine,
    MetricKey,
    PointTile,
    Run,
    Workspace,
)
from .query import QueryError, compiler
from .query.nodes import MAX_TEXT
from .system_metrics import SystemMetric, system_metric

PAGE_SIZE = 50
# Up to this many matches, a page is read from the set of matching runs (see runs_page).
NARROW_MATCHES = 10_000
# Where more match a filter, the table counts this many and says "1000+" ...
COUNT_LIMIT = 1000
# ... unless the index of values bounds the matches by this many: they are counted exactly.
SET_COUNT_MATCHES = 100_000
KEY_SAMPLE_RUNS = 200
BASE_SORTS = {
    "name": "name",
    "state": "state",
    "author": "author__username",
    "created": "created_at",
    "runtime": "runtime",
}
JSON_COLUMNS = ("summary", "config")
DEFAULT_SORT = "-created"
CURSOR_SALT = "runs.table.cursor"


@dataclass(frozen=True)
class RunFilter:
    state: str = ""
    tag: str = ""
    author: str = ""
    q: str = ""  # the text query language (runs.query.text); plain text searches names and ids

    @classmethod
    def from_params(cls, params) -> "RunFilter":
        state = params.get("state", "")
        return cls(
            state=state if state in Run.State.values else "",
            tag=params.get("tag", "").strip()[:255],
            author=params.get("author", "").strip()[:150],
            q=_query_text(params.get("q", "")),
        )

    def query(self) -> query.And:
        """The filter in the one run-query model (runs.query) the API and the client use;
        QueryError when `q` is not a query."""
        conditions = []
        if self.state:
            conditions.append(query.Compare("state", "=", self.state))
        if self.tag:
            conditions.append(query.HasTag(self.tag))
        if self.author:
            conditions.append(query.Compare("author", "=", self.author))
        if self.q:
            conditions.append(query.parse_text(self.q))
        return query.And(tuple(conditions))

    def checked(self) -> "tuple[RunFilter, QueryError | None]":
        """This filter, or, when its query has a mistake, the filter without the query and the
        mistake: a page shows the runs the rest selects and says what is wrong."""
        try:
            self.query()
        except QueryError as error:
            return replace(self, q=""), error
        return self, None

    def apply(self, runs, *, project=None, key_ids=None):
        """These runs narrowed by the filter; given their `project`, conditions on keys read
        the project's matching runs as a set (see runs.query.to_q)."""
        return runs.filter(query.to_q(self.query(), project=project, key_ids=key_ids))

    def as_params(self) -> dict:
        return {key: value for key, value in vars(self).items() if value}

    @property
    def is_active(self):
        return bool(self.as_params())


def _query_text(text: str) -> str:
    # Not stripped, so that the columns of mistakes count from what was typed; one character
    # more than a query may hold, so that a longer one is refused rather than cut short.
    return text[: MAX_TEXT + 1] if text.strip() else ""


@dataclass(frozen=True)
class Sort:
    key: str  # "created", "summary.loss", "config.lr", ...
    descending: bool

    @classmethod
    def parse(cls, value: str | None) -> "Sort":
        value = value or DEFAULT_SORT
        descending = value.startswith("-")
        key = value.removeprefix("-")
        if key not in BASE_SORTS and not json_column_key(key):
            return cls.parse(DEFAULT_SORT)
        return cls(key=key, descending=descending)

    def __str__(self):
        return f"{'-' if self.descending else ''}{self.key}"

    @property
    def lookup(self) -> str:
        if self.key in BASE_SORTS:
            return BASE_SORTS[self.key]
        column, key = json_column_key(self.key)
        return f"{column}__{key}"

    def expression(self):
        if self.key in BASE_SORTS:
            return F(BASE_SORTS[self.key])
        return json_key_expression(*json_column_key(self.key))

    @property
    def nullable(self) -> bool:
        """Whether some runs may have no value: summary and config keys, and columns that are
        nullable (or reached through a nullable relation)."""
        if self.key not in BASE_SORTS:
            return True
        model, nullable = Run, False
        for part in BASE_SORTS[self.key].split("__"):
            field = model._meta.get_field(part)
            nullable, model = nullable or field.null, field.related_model
        return nullable

    def toggled(self, key) -> str:
        """The sort a column header links to: this key, flipped if it is the current one."""
        if key == self.key:
            return f"{'' if self.descending else '-'}{key}"
        return key if key == "name" else f"-{key}"


def json_column_key(key: str):
    column, _, name = key.partition(".")
    if column in JSON_COLUMNS and name and "__" not in name:
        return column, name
    return None


# The summary is stored as the client sent it: W&B keeps it nested (`{"final": {"x": 1}}`) and
# its runs table names the value `summary.final.x`. Flattening it when it is stored would lose
# the difference from a key that holds a dot itself (`run.summary["val.loss"]`), and would change
# what the client reads back; so a dotted name is looked up both ways, the key as written first.


def json_key_expression(column: str, key: str):
    """The value of `column.key` in the database: the key as written or, failing that, the
    path through nested objects its dots name."""
    literal = KeyTransform(key, column)
    if "." not in key:
        return literal
    nested = column
    for part in key.split("."):
        nested = KeyTransform(part, nested)
    return Coalesce(literal, nested, output_field=JSONField())


def json_column_value(run, column_key: str):
    """The value of a summary or config column (`summary.final.x`) of a run, as
    json_key_expression finds it."""
    column, key = json_column_key(column_key)
    data = getattr(run, column)
    if not isinstance(data, dict):
        return None
    if key in data:
        return data[key]
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _column_names(data: dict, prefix: str = ""):
    """The column names of a summary or config: nested objects by their dotted path, a logged
    object with a `_type` (an image, a histogram) as one column."""
    for key, value in data.items():
        if isinstance(value, dict) and value and "_type" not in value:
            yield from _column_names(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


@dataclass
class RunsPage:
    runs: list
    total: int
    total_is_lower_bound: bool = False  # at least `total` runs match
    next_cursor: str | None = None
    prev_cursor: str | None = None
    extra_columns: list = field(default_factory=list)


def _ordered(runs, sort: Sort, *, reverse=False):
    """The sort's order: nulls last, the primary key breaking ties. `reverse` walks the same
    order backwards, so there the nulls come first."""
    expression = sort.expression()
    nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    if not sort.nullable:
        # No NULLS FIRST/LAST where there are no nulls: PostgreSQL serves a plain ORDER BY from
        # an index in both directions, but not "DESC NULLS LAST" from an ascending index.
        nulls = {}
    if sort.descending != reverse:
        return runs.order_by(expression.desc(**nulls), "-pk")
    return runs.order_by(expression.asc(**nulls), "pk")


def _after(sort: Sort, value, pk, *, reverse=False) -> Q:
    """Rows that come after (value, pk) in the sort's order (nulls last, pk breaks ties), or
    before it when `reverse`."""
    if sort.key not in BASE_SORTS:
        return _after_json_key(sort, pk, reverse=reverse)
    beyond = "lt" if sort.descending != reverse else "gt"
    lookup = sort.lookup
    is_null = Q(**{f"{lookup}__isnull": True})
    if value is None:
        # Past a null: later nulls; before a null: later nulls in reverse, and every value.
        nulls_beyond = is_null & Q(**{f"pk__{beyond}": pk})
        return nulls_beyond | Q(**{f"{lookup}__isnull": False}) if reverse else nulls_beyond
    values_beyond = Q(**{f"{lookup}__{beyond}": value}) | Q(**{lookup: value, f"pk__{beyond}": pk})
    if not sort.nullable:
        # The redundant bound (value <= v, or >=) lets the index start at the cursor instead of
        # reading and skipping every run before it.
        return Q(**{f"{lookup}__{beyond}e": value}) & values_beyond
    # The nulls come after every value, never before one.
    return values_beyond if reverse else values_beyond | is_null


def _after_json_key(sort: Sort, pk, *, reverse=False) -> Q:
    """`_after` for a summary or config key. A key may hold a JSON null, an object or a list,
    which SQLite and PostgreSQL each order their own way and Python cannot compare, so the
    cursor row's value is read back by the database through the expression the rows are ordered
    by: whatever a key holds, comparisons agree with the order and every run is paged once."""

    def anchor():
        return Subquery(Run.objects.filter(pk=pk).annotate(value=sort.expression()).values("value"))

    beyond = LessThan if sort.descending != reverse else GreaterThan
    pk_beyond = Q(pk__lt=pk) if sort.descending != reverse else Q(pk__gt=pk)
    is_null, has_value = Q(IsNull(sort.expression(), True)), Q(IsNull(sort.expression(), False))
    values_beyond = Q(beyond(sort.expression(), anchor())) | (
        Q(Exact(sort.expression(), anchor())) & pk_beyond
    )
    nulls_beyond = is_null & pk_beyond
    if reverse:
        after_value, after_null = values_beyond, nulls_beyond | has_value
    else:
        after_value, after_null = values_beyond | is_null, nulls_beyond
    return (Q(IsNull(anchor(), False)) & after_value) | (Q(IsNull(anchor(), True)) & after_null)


def _sort_value(run, sort: Sort):
    if sort.key in BASE_SORTS:
        value = run
        for part in BASE_SORTS[sort.key].split("__"):
            value = getattr(value, part, None) if value is not None else None
        return value
    value = json_column_value(run, sort.key)
    return value if isinstance(value, (int, float, str, bool)) or value is None else None


def encode_cursor(sort: Sort, run, direction: str) -> str:
    value = _sort_value(run, sort)
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    return signing.dumps([str(sort), value, run.pk, direction], salt=CURSOR_SALT, compress=True)


def decode_cursor(cursor: str, sort: Sort):
    try:
        sort_key, value, pk, direction = signing.loads(cursor, salt=CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if sort_key != str(sort) or direction not in ("next", "prev") or not isinstance(pk, int):
        return None
    if sort.key not in BASE_SORTS:
        value = key_order.Position.from_json(value)
        return None if value is None else (value, pk, direction)
    if isinstance(value, dict) and "t" in value:
        value = datetime.fromisoformat(value["t"])
    return value, pk, direction


def _page_rows(runs, sort: Sort, *, reverse=False) -> list:
    """The first PAGE_SIZE + 1 runs in the sort's order."""
    ordered = _ordered(runs, sort, reverse=reverse)
    if sort.key in BASE_SORTS:
        return list(ordered[: PAGE_SIZE + 1])
    # No index serves a summary or config key: the database sorts every matching run. Sorting
    # just ids (narrow rows, no join) in a subquery, then reading the page's runs, halves that.
    page = ordered.values("pk")[: PAGE_SIZE + 1]
    return list(
        _ordered(Run.objects.filter(pk__in=page).select_related("author"), sort, reverse=reverse)
    )


def runs_for_table(project):
    return Run.objects.filter(project=project).select_related("author")


def runs_page(
    project, run_filter: RunFilter, sort: Sort, cursor: str | None = None, *, exact_total=False
) -> RunsPage:
    """A page of the project's runs. Where many runs match a filter, `total` counts up to
    COUNT_LIMIT and says so (`total_is_lower_bound`), unless `exact_total`."""
    names = compiler.key_names(run_filter.query())
    filters_keys = bool(names)
    if sort.key not in BASE_SORTS:
        names.add(json_column_key(sort.key))
    key_ids = compiler.resolve_key_ids(names)
    base = runs_for_table(project)
    # Conditions on keys read the index of values two ways (runs.query.to_q): as the set of
    # matching runs, best when few match, or by probing runs one by one, best for walking runs
    # in an order until a page (or the count's limit) is reached when many match.
    condition = query.to_q(run_filter.query(), project=project, key_ids=key_ids)
    matching = base.filter(condition)
    bound, driver = (None, None)
    if filters_keys:
        bound, driver = compiler.match_bound(condition, SET_COUNT_MATCHES)
    narrow = bound is not None and bound <= NARROW_MATCHES
    probed = run_filter.apply(base, key_ids=key_ids) if filters_keys else matching
    runs = matching if narrow else probed
    # Counting the set costs what it holds; counting by probing, what it takes to find the
    # first COUNT_LIMIT matches: the set is counted exactly while it is not too large, from
    # the index rows of its narrowest key condition, each run checked against the rest.
    by_set = bound is not None and bound <= SET_COUNT_MATCHES
    counted = not run_filter.is_active or exact_total or by_set
    exact_rows = compiler.exact_key_rows(condition) if by_set else None
    if exact_rows is not None:
        # One run per row of the index, each one a match (a lone condition's were counted).
        total = bound if exact_rows is driver else exact_rows.count()
    elif by_set and driver is not None:
        total = driver.filter(Exists(probed.filter(pk=OuterRef("run_id")))).count()
    elif counted:
        total = matching.count()
    else:
        total = probed[: COUNT_LIMIT + 1].count()
    capped = not counted and total > COUNT_LIMIT
    total = COUNT_LIMIT if capped else total
    if sort.key not in BASE_SORTS:
        key = key_ids.get(json_column_key(sort.key))
        matching = matching if run_filter.is_active else None
        page = _key_sorted_page(project, runs, matching, total, sort, cursor, narrow, key)
        page.total_is_lower_bound = capped
        return page
    position = decode_cursor(cursor, sort) if cursor else None
    if position is None:
        rows = _page_rows(runs, sort)
        has_next, has_prev = len(rows) > PAGE_SIZE, False
        rows = rows[:PAGE_SIZE]
    else:
        value, pk, direction = position
        reverse = direction == "prev"
        rows = _page_rows(
            runs.filter(_after(sort, value, pk, reverse=reverse)), sort, reverse=reverse
        )
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        if reverse:
            rows.reverse()
            has_next, has_prev = True, more
        else:
            has_next, has_prev = more, True
    page = RunsPage(runs=rows, total=total, total_is_lower_bound=capped)
    if rows and has_next:
        page.next_cursor = encode_cursor(sort, rows[-1], "next")
    if rows and has_prev:
        page.prev_cursor = encode_cursor(sort, rows[0], "prev")
    return page


def column_keys(project) -> dict[str, list[str]]:
    """Summary and config keys seen in the latest runs, offered as extra columns."""
    keys = {column: set() for column in JSON_COLUMNS}
    for summary, config in Run.objects.filter(project=project).values_list("summary", "config")[
        :KEY_SAMPLE_RUNS
    ]:
        for column, data in (("summary", summary), ("config", config)):
            if isinstance(data, dict):
                keys[column].update(k for k in _column_names(data) if not k.startswith("_"))
    return {column: sorted(names) for column, names in keys.items()}


def selected_runs(project, *, run_ids: list[str] | None, run_filter: RunFilter | None):
    """The runs a bulk action names: explicit ids, or every run matching a filter."""
    runs = Run.objects.filter(project=project)
    if run_filter is not None:
        return run_filter.apply(runs)
    return runs.filter(run_id__in=run_ids or [])


# Alerts, files and artifacts on the project and run pages

RECENT_ALERTS = 10
VERSIONS_SHOWN = 5


def recent_alerts(project) -> list:
    # The alerts are picked in a subquery of alerts and runs alone, with `project + 0`:
    # SQLite, without statistics, would otherwise walk every run of the project (a million)
    # looking for alerts, rather than the few alerts for their runs.
    latest = (
        Alert.objects.annotate(alert_project=F("run__project_id") + 0)
        .filter(alert_project=project.pk, run__trashed_at__isnull=True)
        .order_by("-created_at", "-id")
        .values("pk")[:RECENT_ALERTS]
    )
    return list(
        Alert.objects.filter(pk__in=latest)
        .select_related("run__project__entity")
        .order_by("-created_at", "-id")
    )


# Artifacts are read through the relations the artifacts app adds to projects and runs (and
# its query methods on them): runs never imports the artifacts app, which depends on it.


def artifact_collections(project) -> list:
    """Each artifact of the project with its latest committed versions, aliases and files."""
    return list(project.artifact_collections.order_by("name").with_recent_versions(VERSIONS_SHOWN))


# The client uploads logged media under media/; the run page's Media section shows those files.
# Listing every one again (thousands, for a run logging images every step) cost the page seconds,
# so the Files section lists the first few and counts the rest.
MEDIA_FOLDER = "media/"
MEDIA_FILES_LISTED = 20


def run_files(run) -> list:
    """The run's uploaded files: all but its logged media, then the first of those."""
    uploaded = run.files.exclude(uploaded_at=None).order_by("name")
    media = uploaded.filter(name__startswith=MEDIA_FOLDER)
    own = uploaded.exclude(name__startswith=MEDIA_FOLDER)
    return [*own, *media[:MEDIA_FILES_LISTED]]


def run_media_file_count(run) -> int:
    return run.files.exclude(uploaded_at=None).filter(name__startswith=MEDIA_FOLDER).count()


def run_logged_artifacts(run):
    """The versions the run logged, or logged again (the same files as an earlier run's)."""
    return (run.logged_artifacts.all() | run.relogged_artifacts.all()).distinct()


def run_artifacts(run) -> dict:
    logged = run_logged_artifacts(run).select_related("collection__project__entity")
    used = run.used_artifacts.select_related("collection__project__entity")
    return {"logged": list(logged), "used": list(used)}


# Run page: metrics, console, code


HIDDEN_KEYS = {"_runtime", "_timestamp", "_step", "_wandb"}
CONSOLE_LINES_SHOWN = 1000
TEXT_FILE_SHOWN_BYTES = 256 * 1024


def metric_keys(runs, stream: int = MetricKey.Stream.HISTORY) -> list[str]:
    """The chartable metrics of these runs (numbers, not internal keys), sorted, read from the
    runs' widest tiles rather than their points."""
    names = (
        PointTile.objects.filter(run__in=runs, width=PointTile.WIDTHS[-1], key__stream=stream)
        .order_by()
        .values_list("key__name", flat=True)
        .distinct()
    )
    return sorted(name for name in names if name not in HIDDEN_KEYS)


def chart_groups(keys: list[str]) -> list[tuple[str, list[str]]]:
    """History charts grouped by prefix (`train/loss` under train), ungrouped ones first."""
    groups = {}
    for key in keys:
        prefix, slash, _ = key.rpartition("/")
        groups.setdefault(prefix if slash else "", []).append(key)
    return sorted(groups.items(), key=lambda item: (item[0] != "", item[0]))


SYSTEM_GROUPS = [
    ("GPU", ("system.gpu.",)),
    ("CPU", ("system.cpu", "system.proc.cpu")),
    ("Memory", ("system.memory", "system.proc.memory")),
    ("Disk", ("system.disk",)),
    ("Network", ("system.network",)),
]


def system_groups(keys: list[str]) -> list[tuple[str, list[SystemMetric]]]:
    """System metrics by kind (GPU, CPU, ...), each with its chart's title and unit."""
    groups = {title: [] for title, _ in SYSTEM_GROUPS}
    other = []
    for key in keys:
        title = next((title for title, prefixes in SYSTEM_GROUPS if key.startswith(prefixes)), None)
        (groups[title] if title else other).append(system_metric(key))
    if other:
        groups["Other"] = other
    return [(title, names) for title, names in groups.items() if names]


def console_lines(run, query: str = "") -> list:
    """The last lines of the console output, or the lines that contain `query`, without the
    line ending a client may have kept (each line is shown as a line of its own)."""
    lines = ConsoleLine.objects.filter(run=run)
    if query:
        lines = list(lines.filter(text__icontains=query).order_by("line")[:CONSOLE_LINES_SHOWN])
    else:
        lines = list(lines.order_by("-line")[:CONSOLE_LINES_SHOWN])[::-1]
    for line in lines:
        line.text = line.text.rstrip("\r\n")
    return lines


def run_text_file(run, name: str) -> str | None:
    """The start of one of the run's text files (requirements, code diff), if it was uploaded."""
    file = run.files.exclude(uploaded_at=None).filter(name=name).first()
    if file is None or not default_storage.exists(file.storage_name):
        return None
    with default_storage.open(file.storage_name) as handle:
        content = handle.read(TEXT_FILE_SHOWN_BYTES + 1)
    text = content[:TEXT_FILE_SHOWN_BYTES].decode(errors="replace")
    if len(content) > TEXT_FILE_SHOWN_BYTES:
        text += "\n… (truncated; download the file for the rest)"
    return text


def workspace_of(user, project):
    if not user.is_authenticated:
        return None
    return Workspace.objects.filter(user=user, project=project).first()


def _key_sorted_page(project, runs, matching, total, sort, cursor, narrow, key) -> RunsPage:
    """runs_page sorted by a config or summary key, from the index of values (key_order)."""
    position = decode_cursor(cursor, sort) if cursor else None
    after, _, direction = position or (None, None, "next")
    reverse = direction == "prev"
    positions = key_order.page_positions(
        runs,
        project=project,
        key=key,
        descending=sort.descending,
        matching=matching,
        narrow=narrow,
        after=after,
        reverse=reverse,
        limit=PAGE_SIZE + 1,
    )
    more = len(positions) > PAGE_SIZE
    positions = positions[:PAGE_SIZE]
    if reverse:
        positions.reverse()
    has_next, has_prev = (True, more) if reverse else (more, after is not None)
    page = RunsPage(runs=key_order.runs_at(positions), total=total)
    if positions and has_next:
        page.next_cursor = encode_key_cursor(sort, positions[-1], "next")
    if positions and has_prev:
        page.prev_cursor = encode_key_cursor(sort, positions[0], "prev")
    return page


def encode_key_cursor(sort: Sort, position: key_order.Position, direction: str) -> str:
    """A cursor in a key's order: the run's place in the index of values (key_order)."""
    data = [str(sort), position.as_json(), position.pk, direction]
    return signing.dumps(data, salt=CURSOR_SALT, compress=True)
