"""The preview of an artifact file: the run files' preview (text highlighted, images, binary),
plus JSON pretty-printed and CSV as a table of its first rows."""

import csv
import io
import json
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.utils.safestring import mark_safe

from runs.file_preview import FilePreview, file_preview
from teamsite.lib.highlight import highlight_text

STRUCTURED_BYTES = 1024 * 1024
CSV_ROWS = 100
CSV_COLUMNS = 50


@dataclass(frozen=True)
class TablePreview:
    kind: str
    size: int
    header: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    truncated: bool = False


def _extension(name: str) -> str:
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def artifact_file_preview(storage_name: str, name: str):
    """None if the storage does not hold the file."""
    extension = _extension(name)
    if extension in {"json", "csv", "tsv"} and default_storage.exists(storage_name):
        size = default_storage.size(storage_name)
        if size <= STRUCTURED_BYTES:
            with default_storage.open(storage_name) as handle:
                content = handle.read()
            try:
                text = content.decode()
            except UnicodeDecodeError:
                text = None
            if text is not None and extension == "json":
                preview = _json_preview(name, text, size)
            elif text is not None:
                preview = _table_preview(text, size, "\t" if extension == "tsv" else ",")
            else:
                preview = None
            if preview is not None:
                return preview
    return file_preview(storage_name, name)


def _json_preview(name, text, size):
    try:
        value = json.loads(text)
    except ValueError:
        return None
    pretty = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    return FilePreview(
        kind="text",
        size=size,
        html=mark_safe(highlight_text(name, pretty)),  # Pygments escapes the text
        lines_shown=pretty.count("\n"),
    )


def _table_preview(text, size, delimiter):
    rows = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row[:CSV_COLUMNS])
            if len(rows) > CSV_ROWS + 1:
                break
    except csv.Error:
        return None
    if not rows:
        return None
    header, body = rows[0], rows[1:]
    return TablePreview(
        kind="table",
        size=size,
        header=header,
        rows=body[:CSV_ROWS],
        truncated=len(body) > CSV_ROWS,
    )
