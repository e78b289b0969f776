"""Serving a stored file (run files, artifact files) as a download."""

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseRedirect

from . import objectstore


def stored_file_download(
    storage_name: str, name: str
) -> FileResponse | HttpResponseRedirect | None:
    """The file under `name`'s last part: streamed from local disk, or a redirect to a presigned
    link on S3-compatible storage (the bytes do not pass through the site); None if it is not
    stored."""
    if not storage_name:
        return None
    if objectstore.direct_storage() is not None:
        return HttpResponseRedirect(objectstore.presigned_download(storage_name, name))
    if not default_storage.exists(storage_name):
        return None
    return FileResponse(
        default_storage.open(storage_name),
        as_attachment=True,
        filename=name.rsplit("/", 1)[-1],
        content_type="application/octet-stream",
    )
