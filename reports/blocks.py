"""The settings of each kind of block, checked before anything is saved.

text:       {"markdown": str}
line_chart: {"metrics": [names], "runs": RUNS, "title": str (optional)}
runs_table: {"runs": RUNS, "columns": ["summary.loss", "config.lr", ...], "sort": str
             (optional, a query-language field, "-" first for descending), "limit": 1..100}
leaderboard: {"runs": RUNS, "metric": FIELD, "best": "max"|"min", "limit": 1..50,
             "columns": [FIELD, ...] (optional)}
scatter:    {"runs": RUNS, "x": FIELD, "y": FIELD, "color": FIELD (optional)}
parallel_coordinates: {"runs": RUNS, "columns": [FIELD, ...] (2 to 10)}
media:      {"run": run id, "key": media key, "step": int (optional: the latest)}
artifact:   {"artifact": "name:version" or "name:alias"}
registered_model: {"model": "name:version" or "name:alias"}
RUNS:       {"query": text of the runs query language} or {"ids": [run ids]}; a frozen query
            also keeps the runs it matched: {"query", "frozen": [run ids], "frozen_at": ISO time}
FIELD:      summary.<key> or config.<key>

`clean_config` returns the settings in this shape or raises ValidationError naming the field
at fault."""

import re
from datetime import datetime

from django.core.exceptions import ValidationError

from runs.query import QueryError, order_by, parse_text, to_q
from runs.query.nodes import json_key
from runs.selectors import json_column_key

from .models import ReportBlock

MAX_MARKDOWN = 50_000
MAX_METRICS = 10
MAX_COLUMNS = 20
MAX_NAME = 256
CHART_RUNS = 50  # runs a line chart draws
TABLE_ROWS = 100  # rows a runs table may ask for
DEFAULT_TABLE_ROWS = 20
BOARD_ROWS = 50  # rows a leaderboard may ask for
DEFAULT_BOARD_ROWS = 10
MAX_PARALLEL = 10
FROZEN_RUNS = 1000  # runs a frozen run set keeps: the most a scatter or parallel panel reads
MAX_STEP = 2**62
# An artifact or registered model and its version (v3) or alias (latest): "name:version".
VERSIONED_NAME = re.compile(r"\A([\w.-]{1,255}):([\w.-]{1,128})\Z")

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
    cleaned = {"query": query.strip()}
    if "frozen" in value:
        cleaned["frozen"] = _names(value["frozen"], "frozen run ids", "runs", FROZEN_RUNS)
        frozen_at = value.get("frozen_at")
        try:
            datetime.fromisoformat(frozen_at)
        except (TypeError, ValueError):
            raise ValidationError({"runs": "A frozen run set says when it was frozen."}) from None
        cleaned["frozen_at"] = frozen_at
    return cleaned


def _field(value, name: str, what: str) -> str:
    """A summary or config key, as the query language names it."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({name: f"Name the {what}: summary.<key> or config.<key>."})
    value = value.strip()
    try:
        # Both readings of a key must take it: the query's (json_key) and the table's.
        is_key = len(value) <= MAX_NAME and json_key(value) and json_column_key(value)
    except QueryError:
        is_key = False
    if not is_key:
        raise ValidationError(
            {name: f"“{value[:60]}” is not a {what}: name summary.<key> or config.<key>."}
        )
    return value


def _fields(value, name: str, what: str, limit: int) -> list[str]:
    return [_field(item, name, what) for item in _names(value, what, name, limit)]


def _limit(config: dict, default: int, most: int, what: str) -> int:
    limit = config.get("limit", default)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= most:
        raise ValidationError({"limit": f"Show from 1 to {most} {what}."})
    return limit


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
    cleaned["limit"] = _limit(config, DEFAULT_TABLE_ROWS, TABLE_ROWS, "runs")
    return cleaned


def _clean_leaderboard(config: dict) -> dict:
    cleaned = {
        "runs": clean_run_set(config.get("runs")),
        "metric": _field(config.get("metric"), "metric", "metric"),
    }
    best = config.get("best", "max")
    if best not in ("max", "min"):
        raise ValidationError({"best": "The best value is the highest (max) or the lowest (min)."})
    cleaned["best"] = best
    cleaned["limit"] = _limit(config, DEFAULT_BOARD_ROWS, BOARD_ROWS, "runs")
    cleaned["columns"] = _fields(config.get("columns", []), "columns", "column", MAX_COLUMNS)
    return cleaned


def _clean_scatter(config: dict) -> dict:
    cleaned = {
        "runs": clean_run_set(config.get("runs")),
        "x": _field(config.get("x"), "x", "field for x"),
        "y": _field(config.get("y"), "y", "field for y"),
    }
    if config.get("color"):
        cleaned["color"] = _field(config["color"], "color", "field for the colour")
    return cleaned


def _clean_parallel(config: dict) -> dict:
    columns = _fields(config.get("columns"), "columns", "column", MAX_PARALLEL)
    if len(columns) < 2:
        raise ValidationError({"columns": "Name at least two columns."})
    return {"runs": clean_run_set(config.get("runs")), "columns": columns}


def _clean_media(config: dict) -> dict:
    run = config.get("run")
    if not isinstance(run, str) or not run.strip() or len(run.strip()) > MAX_NAME:
        raise ValidationError({"run": "Give the id of one run of the project."})
    key = config.get("key")
    if not isinstance(key, str) or not key.strip() or len(key.strip()) > MAX_NAME:
        raise ValidationError({"key": "Name the media key the run logged its images under."})
    cleaned = {"run": run.strip(), "key": key.strip()}
    step = config.get("step")
    if step is not None:
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= MAX_STEP:
            raise ValidationError(
                {"step": "The step is a whole number from 0, or empty: the latest."}
            )
        cleaned["step"] = step
    return cleaned


def _versioned(config: dict, name: str, what: str) -> dict:
    value = config.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if not VERSIONED_NAME.match(value):
        raise ValidationError(
            {name: f"Name the {what} and its version or alias, e.g. model:latest or dataset:v3."}
        )
    return {name: value}


def _clean_artifact(config: dict) -> dict:
    return _versioned(config, "artifact", "artifact")


def _clean_registered_model(config: dict) -> dict:
    return _versioned(config, "model", "registered model")


CLEANERS = {
    Kind.TEXT: _clean_text,
    Kind.LINE_CHART: _clean_line_chart,
    Kind.RUNS_TABLE: _clean_runs_table,
    Kind.LEADERBOARD: _clean_leaderboard,
    Kind.SCATTER: _clean_scatter,
    Kind.PARALLEL_COORDINATES: _clean_parallel,
    Kind.MEDIA: _clean_media,
    Kind.ARTIFACT: _clean_artifact,
    Kind.REGISTERED_MODEL: _clean_registered_model,
}

# Kinds whose settings name runs ("runs"): the ones a report can freeze.
RUN_SET_KINDS = (
    Kind.LINE_CHART,
    Kind.RUNS_TABLE,
    Kind.LEADERBOARD,
    Kind.SCATTER,
    Kind.PARALLEL_COORDINATES,
)


def clean_config(kind: str, config) -> dict:
    if kind not in CLEANERS:
        raise ValidationError({"kind": "Choose a kind of block."})
    if not isinstance(config, dict):
        raise ValidationError({"config": "The settings of a block are an object."})
    return CLEANERS[kind](config)
