"""What the page of a run file shows: an image, the start of its text highlighted, or a note that
it is binary."""

from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.utils.safestring import SafeString, mark_safe

from teamsite.lib.highlight import highlight_text

PREVIEW_BYTES = 1024 * 1024
PREVIEW_LINES = 20_000
BINARY_PROBE_BYTES = 8 * 1024
# Shown with an <img>. Not SVG: it can carry script.
IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "webp"}


@dataclass(frozen=True)
class FilePreview:
    kind: str  # "image", "text" or "binary"
    size: int
    html: SafeString | None = None
    lines_shown: int = 0
    truncated: bool = False


def is_image(name: str) -> bool:
    last = name.rsplit("/", 1)[-1]
    return "." in last and last.rsplit(".", 1)[-1].lower() in IMAGE_EXTENSIONS


def file_preview(storage_name: str, name: str) -> FilePreview | None:
    """The preview of a stored file; None if the storage does not hold it."""
    if not storage_name or not default_storage.exists(storage_name):
        return None
    size = default_storage.size(storage_name)
    if is_image(name):
        return FilePreview(kind="image", size=size)
    with default_storage.open(storage_name) as handle:
        content = handle.read(PREVIEW_BYTES + 1)
    truncated = len(content) > PREVIEW_BYTES
    if truncated:
        # Whole lines only.
        content = content[:PREVIEW_BYTES]
        content = content[: content.rfind(b"\n") + 1] or content
    if b"\0" in content[:BINARY_PROBE_BYTES]:
        return FilePreview(kind="binary", size=size)
    try:
        text = content.decode()
    except UnicodeDecodeError as error:
        # A character cut in two at the preview's end is no sign of a binary file.
        if not truncated or error.start < len(content) - 3:
            return FilePreview(kind="binary", size=size)
        text = content[: error.start].decode()
    lines = text.split("\n")
    if len(lines) > PREVIEW_LINES + 1 or (len(lines) == PREVIEW_LINES + 1 and lines[-1]):
        text, truncated = "\n".join(lines[:PREVIEW_LINES]) + "\n", True
    return FilePreview(
        kind="text",
        size=size,
        html=mark_safe(highlight_text(name, text)),  # Pygments escapes the text
        lines_shown=text.count("\n") + (not text.endswith("\n") and bool(text)),
        truncated=truncated,
    )
