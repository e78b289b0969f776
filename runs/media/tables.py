"""`wandb.Table`s a run logged: reading the table file, one page of it sorted and filtered, its
cells as the page shows them, and the whole table as CSV.

The client (0.31.0) logs a `table-file` value naming a run file (`media/table/<key>_<step>_<hash>
.table.json`, `{"columns": [...], "data": [[...], ...]}`) and also logs the table as a `run_table`
artifact `run-<run id>-<key>` whose `<key>.table.json` keeps media cells whole
(`{"_type": "image-file", "path": "media/images/<hash>.png", ...}`, the images being files of that
artifact). The run file has only the media's class name ("Image") there, so the artifact is read
when the client made one, and the run file otherwise."""

import csv
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.files.storage import default_storage

from runs.models import Run, RunFile
from teamsite.lib.spreadsheet import spreadsheet_safe

from .panels import MediaPanel
from .thumbnails import StoredFile

# A table file is read whole to page through it; larger ones are offered as a download only.
MAX_TABLE_BYTES = 64 * 1024 * 1024
PAGE_SIZE = 25
# Longer text is cut in the cell; the whole text is in its title.
TEXT_LIMIT = 120
# Pages linked on each side of the current one.
PAGE_WINDOW = 2
# A filter on one column that reads like `> 0.5` compares numbers instead of matching text.
COMPARISON = re.compile(r"^\s*(<=|>=|<|>|=)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


class TableError(Exception):
    """Why a logged table cannot be shown (the message is for the person looking at it)."""


class TableQueryError(ValueError):
    """A page, sort or filter parameter that does not fit the table (a 400)."""


@dataclass
class LoggedTable:
    columns: list[str]
    rows: list[list]


def _parse(data: bytes) -> LoggedTable:
    try:
        content = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise TableError("This table file is not valid JSON.") from error
    if not isinstance(content, dict):
        raise TableError("This table file holds no table.")
    columns = content.get("columns")
    rows = content.get("data")
    if not isinstance(columns, list) or not isinstance(rows, list):
        raise TableError("This table file has no columns or no data.")
    if not all(isinstance(row, list) for row in rows):
        raise TableError("Every row of a table must be a list of cells.")
    width = len(columns)
    # A row shorter than the header is padded, so every cell has a column.
    rows = [row[:width] + [None] * (width - len(row)) for row in rows]
    return LoggedTable([str(column) for column in columns], rows)


def _is_stored(file: StoredFile) -> bool:
    if not file.storage_name:
        return False
    if isinstance(file, RunFile):
        return file.uploaded_at is not None
    return file.size is not None  # an artifact file without a size is still being uploaded


def load_table(file: StoredFile) -> LoggedTable:
    """The table an uploaded run or artifact file holds; TableError says why it cannot be read."""
    if not _is_stored(file):
        raise TableError("This table has not been uploaded yet.")
    if file.size is not None and file.size > MAX_TABLE_BYTES:
        raise TableError("This table is too large to show here; download it instead.")
    try:
        with default_storage.open(file.storage_name) as handle:
            data = handle.read(MAX_TABLE_BYTES + 1)
    except FileNotFoundError as error:
        raise TableError("This table file is missing from storage.") from error
    if len(data) > MAX_TABLE_BYTES:
        raise TableError("This table is too large to show here; download it instead.")
    return _parse(data)


# Where a logged table is read from


@dataclass
class TableSource:
    """The file a panel's table is read from; media cells name files of `artifact` when the
    table comes from one, else files of the run."""

    file: StoredFile | None
    artifact: object | None = None  # an artifact version (run.logged_artifacts)


def table_source(run: Run, panel: MediaPanel) -> TableSource:
    """The run_table artifact version the client logged with the panel's value (the newest at or
    before its step: a table logged again unchanged makes no new version), else the run file the
    value names. Two queries at most."""
    value = panel.value
    if value.get("artifact_path") or value.get("_latest_artifact_path"):
        name = f"{panel.key}.table.json"
        version = (
            run.logged_artifacts.committed()
            .filter(
                collection__project_id=run.project_id,
                collection__name=f"run-{run.run_id}-{panel.key}",
                history_step__lte=panel.step,
                files__name=name,
            )
            .select_related("collection")
            .order_by("-history_step", "-version_index")
            .first()
        )
        if version is not None:
            return TableSource(version.files.filter(name=name).first(), version)
    return TableSource(panel.items[0].file if panel.items else None)


# Cells


def _compact_json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def media_path(value) -> str | None:
    """The file a media cell (`{"_type": "image-file", "path": ...}`) names; None otherwise."""
    if isinstance(value, dict) and isinstance(value.get("_type"), str):
        path = value.get("path")
        if isinstance(path, str) and path:
            return path
    return None


def _number_text(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    return repr(value)


def cell_text(value) -> str:
    """A cell as text, whole: what the filter searches and the CSV holds."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, str):
        return value
    path = media_path(value)
    if path is not None:
        return path
    return _compact_json(value)


@dataclass
class Cell:
    kind: str  # "empty", "number", "text", "json", "image" or "media"
    text: str
    full: str = ""  # the whole text, when `text` is cut short
    caption: str = ""
    file: StoredFile | None = None  # a media cell's uploaded file, once looked up


def _shortened(text: str, limit: int = TEXT_LIMIT) -> tuple[str, str]:
    if len(text) <= limit:
        return text, ""
    return text[: limit - 1] + "…", text


def make_cell(value) -> Cell:
    if value is None:
        return Cell("empty", "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _number_text(value)
        if len(text) > 12 and isinstance(value, float):
            return Cell("number", f"{value:.6g}", text)
        return Cell("number", *_shortened(text))
    path = media_path(value)
    if path is not None:
        caption = value.get("caption")
        kind = "image" if value["_type"] == "image-file" else "media"
        return Cell(kind, path, caption=caption if isinstance(caption, str) else "")
    kind = "text" if isinstance(value, str | bool) else "json"
    return Cell(kind, *_shortened(cell_text(value)))


# Paging, sorting, filtering


@dataclass(frozen=True)
class TableQuery:
    page: int = 1
    sort: str = ""  # a column; "" keeps the logged order
    desc: bool = False
    q: str = ""
    column: str = ""  # the column the filter looks in; "" for any

    def params(self, **changes) -> dict:
        """The GET parameters of this query with some changed (for links)."""
        values = {
            "page": self.page,
            "sort": self.sort,
            "desc": "1" if self.desc else "",
            "q": self.q,
            "col": self.column,
        }
        values.update(changes)
        return {name: value for name, value in values.items() if value not in ("", None)}


_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"", "0", "false", "off", "no"}


def parse_table_query(params, columns: list[str]) -> TableQuery:
    """The query that GET parameters ask for; TableQueryError for values that cannot be read.
    A page past the last one is clamped when the page is made."""
    raw_page = params.get("page", "").strip() or "1"
    if not raw_page.isdigit() or len(raw_page) > 9:
        raise TableQueryError("The page must be a whole number from 1.")
    desc = params.get("desc", "").strip().lower()
    if desc not in _TRUE | _FALSE:
        raise TableQueryError("desc must be 1 or 0.")
    sort = params.get("sort", "")
    if sort and sort not in columns:
        raise TableQueryError("This table has no column of that name to sort by.")
    column = params.get("col", "")
    if column and column not in columns:
        raise TableQueryError("This table has no column of that name to filter.")
    q = params.get("q", "")
    if len(q) > 1000:
        raise TableQueryError("The filter is too long.")
    return TableQuery(max(int(raw_page), 1), sort, desc in _TRUE, q, column)


def sort_key(value) -> tuple:
    """A total order on any cell: numbers by value, then booleans, text (case-insensitively),
    media by path, lists and dicts by their JSON, NaN last among values. (None sorts apart.)"""
    if isinstance(value, bool):
        return (1, int(value), "")
    if isinstance(value, int | float):
        return (5, 0, "") if math.isnan(value) else (0, value, "")
    if isinstance(value, str):
        return (2, value.casefold(), value)
    path = media_path(value)
    if path is not None:
        return (3, path, "")
    return (4, _compact_json(value), "")


def _comparison(q: str):
    """`> 0.5` and friends as a test of a number; None if the filter is plain text."""
    match = COMPARISON.match(q)
    if match is None:
        return None
    operator, bound = match.group(1), float(match.group(2))
    tests = {
        "<": lambda x: x < bound,
        "<=": lambda x: x <= bound,
        ">": lambda x: x > bound,
        ">=": lambda x: x >= bound,
        "=": lambda x: x == bound,
    }
    test = tests[operator]

    def matches(value) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool) and test(value)

    return matches


def _filtered(table: LoggedTable, query: TableQuery) -> list[tuple[int, list]]:
    """(logged row number, row) of the rows the filter keeps."""
    rows = list(enumerate(table.rows, start=1))
    if not query.q:
        return rows
    indexes = range(len(table.columns))
    if query.column:
        indexes = [table.columns.index(query.column)]
        compare = _comparison(query.q)
        if compare is not None:
            index = indexes[0]
            return [(number, row) for number, row in rows if compare(row[index])]
    needle = query.q.casefold()
    return [
        (number, row)
        for number, row in rows
        if any(needle in cell_text(row[i]).casefold() for i in indexes)
    ]


def _sorted(rows: list[tuple[int, list]], columns: list[str], query: TableQuery):
    if not query.sort:
        return rows
    index = columns.index(query.sort)
    present = [pair for pair in rows if pair[1][index] is not None]
    # Stable both ways (rows that tie keep their logged order); empty cells stay last.
    present.sort(key=lambda pair: sort_key(pair[1][index]), reverse=query.desc)
    return present + [pair for pair in rows if pair[1][index] is None]


@dataclass
class TableRow:
    number: int  # its place in the table as logged, from 1
    cells: list[Cell]


@dataclass
class PageLink:
    number: int | None  # None marks a gap between the numbers shown
    url: str = ""


@dataclass
class ColumnHead:
    name: str
    url: str  # sorts by this column: ascending first, then the other way
    order: str = ""  # "ascending" or "descending" when the rows are sorted by it


@dataclass
class TablePage:
    columns: list[str]
    rows: list[TableRow]
    total_rows: int  # as logged
    matching_rows: int  # those the filter keeps
    page: int
    pages: int
    query: TableQuery
    heads: list[ColumnHead] = field(default_factory=list)
    page_links: list[PageLink] = field(default_factory=list)
    previous_url: str = ""
    next_url: str = ""

    @property
    def first_row(self) -> int:
        """The page's first row's place among the matching rows, from 1."""
        return (self.page - 1) * PAGE_SIZE + 1

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1


def _page_numbers(page: int, pages: int) -> list[int | None]:
    near = set(range(page - PAGE_WINDOW, page + PAGE_WINDOW + 1)) | {1, pages}
    shown = sorted(number for number in near if 1 <= number <= pages)
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def table_page(table: LoggedTable, query: TableQuery, url=None) -> TablePage:
    """The rows of one page of the table, filtered then sorted; a page past the last shows the
    last. `url(params)` makes the links to other pages and orders (none without it)."""
    rows = _sorted(_filtered(table, query), table.columns, query)
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(query.page, pages)
    start = (page - 1) * PAGE_SIZE
    shown = [
        TableRow(number, [make_cell(value) for value in row])
        for number, row in rows[start : start + PAGE_SIZE]
    ]
    result = TablePage(table.columns, shown, len(table.rows), len(rows), page, pages, query)
    if url is not None:
        _link(result, url)
    return result


def _link(page: TablePage, url) -> None:
    query = page.query
    for name in page.columns:
        order = ""
        if name == query.sort:
            order = "descending" if query.desc else "ascending"
        flip = "1" if order == "ascending" else ""
        page.heads.append(ColumnHead(name, url(query.params(page="", sort=name, desc=flip)), order))
    page.page_links = [
        PageLink(number, url(query.params(page=number)) if number else "")
        for number in _page_numbers(page.page, page.pages)
    ]
    if page.page > 1:
        page.previous_url = url(query.params(page=page.page - 1))
    if page.page < page.pages:
        page.next_url = url(query.params(page=page.page + 1))


def attach_cell_files(run: Run, source: TableSource, page: TablePage) -> None:
    """Point the page's media cells at their uploaded files, in one query."""
    cells = [cell for row in page.rows for cell in row.cells if cell.kind in ("image", "media")]
    names = {cell.text for cell in cells}
    if not names:
        return
    if source.artifact is not None:
        found = source.artifact.files.stored().filter(name__in=names)
    else:
        found = RunFile.objects.filter(run=run, name__in=names).exclude(uploaded_at=None)
    files = {file.name: file for file in found}
    for cell in cells:
        cell.file = files.get(cell.text)


# CSV


def _csv_value(value) -> str:
    return spreadsheet_safe(value) if isinstance(value, str) else cell_text(value)


class _Echo:
    """A file for csv.writer that hands back each line instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def table_csv_lines(table: LoggedTable) -> Iterator[str]:
    """The whole table as CSV lines: the header, then every row as logged; media cells as the
    path of their file, lists and dicts as JSON, empty cells empty."""
    writer = csv.writer(_Echo())
    yield writer.writerow([_csv_value(column) for column in table.columns])
    for row in table.rows:
        yield writer.writerow([_csv_value(value) for value in row])
