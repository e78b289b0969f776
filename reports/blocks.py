"""The settings of each kind of block, checked before anything is saved.

text:       {"markdown": str}
line_chart: {"metrics": [names], "runs": RUNS, "title": str (optional)}
runs_table: {"runs": RUNS, "columns": ["summary.loss", "config.lr", ...], "sort": str
             (optional, a query-language field, "-" first for descending), "limit": 1..100}
RUNS:       {"query": text of the runs query language} or {"ids": [run ids]}

`clean_config` returns the settings in this shape or raises ValidationError naming the field
at fault."""

from django.core.exceptions import ValidationError

from runs.query import QueryError, order_by, parse_text, to_q
from runs.selectors import json_column_key

from .models import ReportBlock

MAX_MARKDOWN = 50_000
MAX_METRICS = 10
MAX_COLUMNS = 20
MAX_NAME = 256
CHART_RUNS = 50  # runs a line chart draws
TABLE_ROWS = 100  # rows a runs table may ask for
DEFAULT_TABLE_ROWS = 20

Kind = ReportBlock.Kind


def _names(value, what: str, field: str, limit: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValidationError({field: f"Give the {what} as a list of names."})
    names = list(dict.fromkeys(name.strip() for name in value if name.strip()))
    if len(names) > limit:
        raise ValidationError({field: f"At most {limit} {what}."})
    if any(len(name) > MAX_NAME for name in names):
        raise ValidationError({field: f"A name is longer than {MAX_NAME} characters."})
    return names


def clean_run_set(value) -> dict:
    if not isinstance(value, dict):
        raise ValidationError({"runs": "Name the runs by a query or by their ids."})
    if "ids" in value:
        ids = _names(value["ids"], "run ids", "runs", TABLE_ROWS)
        if not ids:
            raise ValidationError({"runs": "Name at least one run."})
        return {"ids": ids}
    query = value.get("query", "")
    if not isinstance(query, str):
        raise ValidationError({"runs": "The query is text."})
    try:
        to_q(parse_text(query))
    except QueryError as error:  # its message says where the mistake is
        raise ValidationError({"runs": f"The query has a mistake: {error}."}) from None
    return {"query": query.strip()}


def _clean_text(config: dict) -> dict:
    markdown = config.get("markdown", "")
    if not isinstance(markdown, str):
        raise ValidationError({"markdown": "The text is a string."})
    if len(markdown) > MAX_MARKDOWN:
        raise ValidationError({"markdown": f"At most {MAX_MARKDOWN:,} characters."})
    return {"markdown": markdown}


def _clean_title(config: dict) -> str:
    title = config.get("title") or ""
    if not isinstance(title, str) or len(title) > 200:
        raise ValidationError({"title": "A title of at most 200 characters."})
    return title.strip()


def _clean_line_chart(config: dict) -> dict:
    metrics = _names(config.get("metrics"), "metrics", "metrics", MAX_METRICS)
    if not metrics:
        raise ValidationError({"metrics": "Name at least one metric."})
    cleaned = {"metrics": metrics, "runs": clean_run_set(config.get("runs"))}
    if title := _clean_title(config):
        cleaned["title"] = title
    return cleaned


def _clean_runs_table(config: dict) -> dict:
    columns = _names(config.get("columns", []), "columns", "columns", MAX_COLUMNS)
    for column in columns:
        if not json_column_key(column):
            raise ValidationError(
                {"columns": f"“{column}” is not a column: name summary.<key> or config.<key>."}
            )
    cleaned = {"runs": clean_run_set(config.get("runs")), "columns": columns}
    sort = config.get("sort") or ""
    if not isinstance(sort, str):
        raise ValidationError({"sort": "Name the field to sort by."})
    if sort := sort.strip():
        try:
            order_by(sort.removeprefix("-"), descending=sort.startswith("-"))
        except QueryError as error:
            raise ValidationError({"sort": f"Cannot sort by “{sort}”: {error}"}) from None
        cleaned["sort"] = sort
    limit = config.get("limit", DEFAULT_TABLE_ROWS)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= TABLE_ROWS:
        raise ValidationError({"limit": f"Show from 1 to {TABLE_ROWS} runs."})
    cleaned["limit"] = limit
    return cleaned


CLEANERS = {
    Kind.TEXT: _clean_text,
    Kind.LINE_CHART: _clean_line_chart,
    Kind.RUNS_TABLE: _clean_runs_table,
}


def clean_config(kind: str, config) -> dict:
    if kind not in CLEANERS:
        raise ValidationError({"kind": "Choose a kind of block."})
    if not isinstance(config, dict):
        raise ValidationError({"config": "The settings of a block are an object."})
    return CLEANERS[kind](config)
