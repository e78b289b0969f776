"""`wandb.Table`s a run logged: the client uploads each as a JSON file (`{"columns": [...],
"data": [[...], ...]}`) and logs a `table-file` value naming it."""

import json
from dataclasses import dataclass

from django.core.files.storage import default_storage

from runs.models import RunFile

# A table file is read whole to page through it; larger ones are offered as a download only.
MAX_TABLE_BYTES = 64 * 1024 * 1024


class TableError(Exception):
    """Why a logged table cannot be shown (the message is for the person looking at it)."""


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


def load_table(file: RunFile) -> LoggedTable:
    """The table an uploaded run file holds; TableError says why it cannot be read."""
    if file.uploaded_at is None or not file.storage_name:
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
