"""Serving a stored file (run files, artifact files) as a download."""

from django.core.files.storage import default_storage
from django.http import FileResponse


def stored_file_download(storage_name: str, name: str) -> FileResponse | None:
    """The file under `name`'s last part, streamed from storage; None if it is not stored."""
    if not storage_name or not default_storage.exists(storage_name):
        return None
    return FileResponse(
        default_storage.open(storage_name),
        as_attachment=True,
        filename=name.rsplit("/", 1)[-1],
        content_type="application/octet-stream",
    )
