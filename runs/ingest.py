"""What a running client streams (W&B file_stream): history rows, system metrics, the summary,
console output and the exit code. Everything in a request is checked before anything is written,
then written in one transaction; a replayed or overlapping chunk writes nothing new."""

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from .models import ConsoleLine, MetricKey, Point, RichValue, Run, RunKey
from .services import RunsError
from .tiles import pg_array, write_tiles

HISTORY_FILE = "wandb-history.jsonl"
EVENTS_FILE = "wandb-events.jsonl"
SUMMARY_FILE = "wandb-summary.json"
CONSOLE_FILE = "output.log"
STREAMED_FILES = (HISTORY_FILE, EVENTS_FILE, SUMMARY_FILE, CONSOLE_FILE)
STEP_KEY = "_step"
STEP_OF = itemgetter(0)  # of a (step, value) pair
MAX_KEY_LENGTH = MetricKey._meta.get_field("name").max_length
# A float holds every integer up to 2**53 exactly; larger ones keep their JSON.
MAX_EXACT_INTEGER = 2**53
# The largest step a BigIntegerField holds, and the largest line count a PositiveIntegerField
# holds (PostgreSQL's integer): anything past these would fail in the database, not here.
MAX_STEP = 2**63 - 1
MAX_LINE_COUNT = 2**31 - 1
# An exit code is stored in an integer column (PostgreSQL's, 32 bits).
MIN_EXIT_CODE, MAX_EXIT_CODE = -(2**31), 2**31 - 1
# How deeply a stored value may nest lists and objects: deeper ones are refused before Python's
# recursion limit (about 1000) is near, in the parser or in the code that walks them.
MAX_DEPTH = 100


class IngestError(RunsError):
    """A request that is refused as a whole; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Chunk:
    offset: int
    lines: list


@dataclass
class Rows:
    """Parsed history or events lines: scalar points and the other values, by key name."""

    points: list = field(default_factory=list)  # (key, step, value)
    rich: list = field(default_factory=list)  # (key, step, json value)
    keys: set = field(default_factory=set)
    end: int = 0  # one past the last line number
    max_runtime: float | None = None


@dataclass
class FileStreamUpdate:
    history: Rows | None = None
    events: Rows | None = None
    summary: dict | None = None
    console: dict | None = None  # line number -> ConsoleText
    console_end: int = 0
    complete: bool = False
    exit_code: int | None = None
    uploaded: list = field(default_factory=list)  # run files the client put in the bucket


def parse_file_stream(payload) -> FileStreamUpdate:
    """Check a decoded file_stream body; raise IngestError naming the first problem."""
    if not isinstance(payload, dict):
        raise IngestError("The body must be a JSON object.")
    update = FileStreamUpdate()
    files = payload.get("files")
    files = {} if files is None else files
    if not isinstance(files, dict):
        raise IngestError('"files" must be an object.')
    unknown = sorted(set(files) - set(STREAMED_FILES))
    if unknown:
        raise IngestError(f"Unknown file_stream file {unknown[0]!r}.")
    chunks = {name: _chunk(name, value) for name, value in files.items()}
    lines = sum(len(chunk.lines) for chunk in chunks.values())
    if lines > settings.FILE_STREAM_MAX_LINES:
        raise IngestError(
            f"Too many lines in one request: {lines}; the limit is "
            f"{settings.FILE_STREAM_MAX_LINES}.",
            status=413,
        )
    if HISTORY_FILE in chunks:
        update.history = _rows(chunks[HISTORY_FILE], HISTORY_FILE, steps_from_rows=True)
    if EVENTS_FILE in chunks:
        update.events = _rows(chunks[EVENTS_FILE], EVENTS_FILE, steps_from_rows=False)
    if SUMMARY_FILE in chunks and chunks[SUMMARY_FILE].lines:
        # The client sends the whole summary each time; the last line is the current one.
        update.summary = storable(_json_object(chunks[SUMMARY_FILE].lines[-1], SUMMARY_FILE, 0))
    if CONSOLE_FILE in chunks:
        chunk = chunks[CONSOLE_FILE]
        update.console = {
            chunk.offset + i: console_text(storable_text(line))
            for i, line in enumerate(chunk.lines)
        }
        update.console_end = chunk.offset + len(chunk.lines)
    uploaded = payload.get("uploaded", [])
    _check_list_of_strings(uploaded, "uploaded")
    update.uploaded = list(dict.fromkeys(uploaded))
    update.complete = payload.get("complete") is True
    exit_code = payload.get("exitcode")
    if exit_code is not None and (isinstance(exit_code, bool) or not isinstance(exit_code, int)):
        raise IngestError('"exitcode" must be an integer.')
    if exit_code is not None and not MIN_EXIT_CODE <= exit_code <= MAX_EXIT_CODE:
        raise IngestError(f'"exitcode" must be from {MIN_EXIT_CODE} to {MAX_EXIT_CODE}.')
    update.exit_code = exit_code
    return update


def _chunk(name, value) -> Chunk:
    if not isinstance(value, dict):
        raise IngestError(f"{name}: must be an object with offset and content.")
    offset = value.get("offset", 0)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise IngestError(f"{name}: offset must be a non-negative integer.")
    content = value.get("content", [])
    _check_list_of_strings(content, f"{name} content")
    if offset + len(content) > MAX_LINE_COUNT:
        raise IngestError(f"{name}: lines past {MAX_LINE_COUNT} are not accepted.")
    return Chunk(offset, content)


@dataclass(frozen=True)
class ConsoleText:
    text: str
    stream: str = ConsoleLine.Stream.STDOUT
    logged_at: datetime | None = None


# The client's prefix of a console line: "ERROR " for stderr, then the time it was printed
# (UTC, ISO 8601, microseconds) and a space: "ERROR 2026-12-03T18:51:53.025236 Traceback".
CONSOLE_PREFIX = re.compile(r"(ERROR )?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?) ")


def console_text(line: str) -> ConsoleText:
    """A console line as the program printed it, with the client's prefix taken apart into
    stream and time; a line without that prefix is kept whole, as stdout."""
    match = CONSOLE_PREFIX.match(line)
    if match is None:
        return ConsoleText(line)
    try:
        logged_at = datetime.fromisoformat(match[2]).replace(tzinfo=UTC)
    except ValueError:  # shaped like a time but not one (month 13)
        return ConsoleText(line)
    stream = ConsoleLine.Stream.STDERR if match[1] else ConsoleLine.Stream.STDOUT
    return ConsoleText(line[match.end() :], stream, logged_at)


def _check_list_of_strings(value, what):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise IngestError(f"{what} must be a list of strings.")


def load_json(text, what: str):
    """json.loads for text a client sent. Nesting past Python's recursion limit is refused as an
    IngestError; invalid JSON raises ValueError, for the caller to word."""
    try:
        return json.loads(text)
    except RecursionError:
        raise IngestError(too_deep(what)) from None


def too_deep(what: str) -> str:
    return f"{what} is nested more than {MAX_DEPTH} levels deep."


def _json_object(line: str, name: str, number: int) -> dict:
    try:
        row = load_json(line, f"{name} line {number}")
    except ValueError:
        raise IngestError(f"{name} line {number}: not valid JSON.") from None
    if not isinstance(row, dict):
        raise IngestError(f"{name} line {number}: must be a JSON object.")
    return row


def _is_scalar(value) -> bool:
    return isinstance(value, float) or (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -MAX_EXACT_INTEGER <= value <= MAX_EXACT_INTEGER
    )


NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
NUL = "\x00"
# Characters no database text holds: NUL (PostgreSQL refuses it) and lone surrogates (JSON's
# "\ud800" escape decodes to one; UTF-8 cannot encode it). In what a user logs, U+FFFD stands
# in for them, so the line or value is kept rather than refused with the whole request.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
NUL_STANDIN = "\ufffd"


def storable_text(text: str) -> str:
    if text.isascii():
        return text.replace(NUL, NUL_STANDIN) if NUL in text else text
    return UNSTORABLE.sub(NUL_STANDIN, text)


def storable(value, depth: int = 0):
    """The value as both databases can store it in JSON: NaN and infinities (a loss that
    diverged) become the strings "NaN", "Infinity" and "-Infinity", as W&B shows them; NUL
    characters and lone surrogates become U+FFFD. Lists and objects nested more than
    MAX_DEPTH deep are refused (IngestError)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else NON_FINITE[str(value)]
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict | list) and depth == MAX_DEPTH:
        raise IngestError(too_deep("A value"))
    if isinstance(value, dict):
        return {storable(key): storable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item, depth + 1) for item in value]
    return value


def check_names(value, what: str, depth: int = 0) -> None:
    """Refuse (IngestError) a decoded request that names things (runs, files, projects): a
    stand-in character would change the name, so a lone surrogate or a NUL character (which
    PostgreSQL cannot store or compare) is refused, as is nesting deeper than MAX_DEPTH."""
    if isinstance(value, str):
        if not value.isascii() and LONE_SURROGATE.search(value):
            raise IngestError(f"{what} holds text that is not valid Unicode (a lone surrogate).")
        if NUL in value:
            raise IngestError(f"{what} holds a NUL character (U+0000).")
    elif isinstance(value, dict | list):
        if depth == MAX_DEPTH:
            raise IngestError(too_deep(what))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            check_names(key, what, depth + 1)
            check_names(item, what, depth + 1)


def _rows(chunk: Chunk, name: str, *, steps_from_rows: bool) -> Rows:
    rows = Rows(end=chunk.offset + len(chunk.lines))
    points, rich, keys = rows.points, rows.rich, rows.keys
    for i, line in enumerate(chunk.lines):
        number = chunk.offset + i
        row = _json_object(line, name, number)
        if steps_from_rows:
            step = row.pop(STEP_KEY, number)
            if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEP:
                raise IngestError(
                    f"{name} line {number}: _step must be an integer from 0 to {MAX_STEP}."
                )
        else:
            step = number
        for key, value in flat_items(row):
            key = storable_text(key)
            if _is_scalar(value):
                # All floats: PostgreSQL's array of values cannot mix int and float.
                points.append((key, step, None if math.isnan(value) else float(value)))
            else:
                rich.append((key, step, storable(value)))
            keys.add(key)
        runtime = row.get("_runtime")
        if _is_scalar(runtime) and math.isfinite(runtime):
            rows.max_runtime = max(runtime, rows.max_runtime or runtime)
    too_long = next((key for key in keys if len(key) > MAX_KEY_LENGTH), None)
    if too_long is not None:
        raise IngestError(f"{name}: key {too_long[:40]!r}... is longer than {MAX_KEY_LENGTH}.")
    return rows


def flat_items(row: dict, prefix: str = "", depth: int = 0):
    """(key, value) of a logged row with nested objects flattened as W&B does:
    `{"train": {"loss": 1}}` is `train.loss`. An object with a `_type` (an image, a histogram,
    a table) is one value, and so is an empty object: they are kept whole under their key."""
    if depth == MAX_DEPTH:
        raise IngestError(too_deep("A row"))
    for key, value in row.items():
        if isinstance(value, dict) and value and "_type" not in value:
            yield from flat_items(value, f"{prefix}{key}.", depth + 1)
        else:
            yield f"{prefix}{key}", value


def intern_keys(stream: int, names) -> dict[str, int]:
    """Ids of these key names, creating the missing ones."""
    names = set(names)
    ids = dict(MetricKey.objects.filter(stream=stream, name__in=names).values_list("name", "id"))
    missing = names - ids.keys()
    if missing:
        MetricKey.objects.bulk_create(
            [MetricKey(stream=stream, name=name) for name in missing], ignore_conflicts=True
        )
        ids.update(
            MetricKey.objects.filter(stream=stream, name__in=missing).values_list("name", "id")
        )
    return ids


def _insert_points(run_id: int, rows: list[tuple], by_key: dict[int, list]) -> dict[int, int]:
    """Insert (key id, step, value) rows (also given as {key id: [(step, value)]}), leaving any
    that exist (the replay rule); how many were new, by key id."""
    if not rows:
        return {}
    table = connection.ops.quote_name(Point._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement over three arrays: far cheaper than a row of parameters each.
            key_ids, steps, values = zip(*rows, strict=True)
            cursor.execute(
                f"WITH added AS (INSERT INTO {table} (run_id, key_id, step, value) "
                "SELECT %s, k, s, v FROM unnest(%s::bigint[], %s::bigint[], "
                "%s::double precision[]) AS t(k, s, v) ON CONFLICT DO NOTHING RETURNING key_id) "
                "SELECT key_id, COUNT(*) FROM added GROUP BY key_id",
                [run_id, pg_array(key_ids), pg_array(steps), pg_array(values)],
            )
            return dict(cursor.fetchall())
        return _insert_by_key(cursor, table, run_id, by_key)


def _insert_by_key(cursor, table: str, run_id: int, by_key: dict[int, list]) -> dict[int, int]:
    """One executemany per key, whose row count (the drivers sum it) is the rows that were new.
    The ids are our own integers, written into the statement so that each key's (step, value)
    pairs are its parameters as they are."""
    added = {}
    for key_id, pairs in by_key.items():
        cursor.executemany(
            f"INSERT INTO {table} (run_id, key_id, step, value) "
            f"VALUES ({int(run_id)}, {int(key_id)}, %s, %s) ON CONFLICT DO NOTHING",
            pairs,
        )
        added[key_id] = cursor.rowcount
    return added


def _by_key(rows) -> dict[int, list[tuple]]:
    """{key id: [(step, value)]} of (key id, step, value) rows."""
    grouped = {}
    for key_id, step, value in rows:
        pairs = grouped.get(key_id)
        if pairs is None:
            pairs = grouped[key_id] = []
        pairs.append((step, value))
    return grouped


def _count_keys(run_id: int, points: dict, rich: dict, added: dict, rich_added: dict) -> None:
    """Add the new values to the run's RunKey rows. A step range only widens: a replayed value
    lies within it already."""
    ranges = {}
    for by_key in (points, rich):
        for key_id, pairs in by_key.items():
            first, last = min(pairs, key=STEP_OF)[0], max(pairs, key=STEP_OF)[0]
            if key_id in ranges:
                first, last = min(first, ranges[key_id][0]), max(last, ranges[key_id][1])
            ranges[key_id] = (first, last)
    if not ranges:
        return
    table = connection.ops.quote_name(RunKey._meta.db_table)
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} AS k (run_id, key_id, points, rich, first_step, last_step) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (run_id, key_id) DO UPDATE SET "
            "points = k.points + excluded.points, rich = k.rich + excluded.rich, "
            f"first_step = {least}(k.first_step, excluded.first_step), "
            f"last_step = {greatest}(k.last_step, excluded.last_step)",
            [
                (run_id, key_id, added.get(key_id, 0), rich_added.get(key_id, 0), first, last)
                for key_id, (first, last) in ranges.items()
            ],
        )


def _write_rows(run: Run, stream: int, rows: Rows) -> None:
    ids = intern_keys(stream, rows.keys)
    points = [(ids[key], step, value) for key, step, value in rows.points]
    points_by_key = _by_key(points)
    added = _insert_points(run.pk, points, points_by_key)
    write_tiles(run.pk, points)
    # Non-scalars, rarer, in both databases as SQLite's points. A bare None would be SQL NULL,
    # which the column refuses: adapted, it is JSON null.
    adapt = connection.ops.adapt_json_value
    rich = _by_key((ids[key], step, adapt(value, None)) for key, step, value in rows.rich)
    table = connection.ops.quote_name(RichValue._meta.db_table)
    with connection.cursor() as cursor:
        rich_added = _insert_by_key(cursor, table, run.pk, rich)
    _count_keys(run.pk, points_by_key, rich, added, rich_added)


def _summary_position(summary: dict) -> tuple:
    """Where in the run a summary was taken, so a late, older one does not replace a newer."""

    def number(key):
        value = summary.get(key)
        return value if _is_scalar(value) and not math.isnan(value) else -1

    return (number(STEP_KEY), number("_runtime"))


@transaction.atomic
def apply_file_stream(run: Run, update: FileStreamUpdate) -> None:
    run = Run.objects.select_for_update().get(pk=run.pk)
    now = timezone.now()
    changes = {"heartbeat_at": now}
    runtime = run.runtime
    if update.history is not None:
        _write_rows(run, MetricKey.Stream.HISTORY, update.history)
        changes["history_line_count"] = Greatest(F("history_line_count"), update.history.end)
        if update.history.end > run.history_line_count:
            changes["history_at"] = now
        runtime = _later(runtime, update.history.max_runtime)
    if update.events is not None:
        _write_rows(run, MetricKey.Stream.EVENTS, update.events)
        changes["events_line_count"] = Greatest(F("events_line_count"), update.events.end)
        runtime = _later(runtime, update.events.max_runtime)
    if update.console:
        ConsoleLine.objects.bulk_create(
            [
                ConsoleLine(
                    run=run,
                    line=line,
                    text=console.text,
                    stream=console.stream,
                    logged_at=console.logged_at,
                )
                for line, console in update.console.items()
            ],
            update_conflicts=True,
            unique_fields=["run", "line"],
            update_fields=["text", "stream", "logged_at"],
        )
        changes["console_line_count"] = Greatest(F("console_line_count"), update.console_end)
    if update.summary is not None and _summary_position(update.summary) >= _summary_position(
        run.summary
    ):
        changes["summary"] = update.summary
        runtime = _later(runtime, _summary_position(update.summary)[1])
    if runtime is not None and runtime >= 0:
        changes["runtime"] = runtime
    if update.complete:
        failed = update.exit_code not in (None, 0)
        changes.update(
            state=Run.State.FAILED if failed else Run.State.FINISHED,
            exit_code=update.exit_code,
            finished_at=now,
        )
    elif run.state in (Run.State.CRASHED, Run.State.PENDING):
        # It was marked crashed for going quiet, or requeued (pending), and it is back.
        changes["state"] = Run.State.RUNNING
    Run.objects.filter(pk=run.pk).update(**changes)


def _later(current, new):
    if new is None:
        return current
    return new if current is None else max(current, new)
