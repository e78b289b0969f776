"""Upload and download links for the wandb client. It sends no credentials to them, so each
link carries its own: on S3-compatible storage a presigned link to the bucket (the bytes never
pass through the site), on local disk a signed, expiring token naming one action on one object,
served by api.wandb.transfer_file."""

from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.urls import reverse

from teamsite.lib import objectstore

SALT = "api.transfer"

PUT_RUN_FILE = "put-run-file"
GET_RUN_FILE = "get-run-file"
PUT_ARTIFACT_FILE = "put-artifact-file"
GET_ARTIFACT_FILE = "get-artifact-file"
PUT_MANIFEST = "put-manifest"
GET_MANIFEST = "get-manifest"


def transfer_url(request, action: str, object_id: int, filename: str) -> str:
    token = signing.dumps([action, object_id], salt=SALT, compress=True)
    # The file name rides along so a download saves under the right name; the token alone
    # decides what is read or written.
    path = reverse("wandb_transfer", args=[token, quote(filename.rsplit("/", 1)[-1] or "file")])
    return request.build_absolute_uri(path)


def read_transfer_token(token: str) -> tuple[str, int] | None:
    try:
        action, object_id = signing.loads(token, salt=SALT, max_age=settings.STORAGE_URL_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return action, object_id


def download_url(request, action: str, object_id: int, storage_name: str, filename: str) -> str:
    """Where the client reads a stored file: from the bucket itself, or through the site."""
    if storage_name and objectstore.direct_storage() is not None:
        return objectstore.presigned_download(storage_name, filename)
    return transfer_url(request, action, object_id, filename)


def upload_link(
    request, action: str, object_id: int, storage_name: str, filename: str, md5: str = ""
) -> tuple[str, list[str]]:
    """Where the client writes a file, and the headers it sends with it (uploadHeaders): to
    the bucket, at the file's storage name (with its base64 `md5` signed in when known), or
    through the site, which stores it."""
    if objectstore.direct_storage() is not None:
        return objectstore.presigned_upload(storage_name, md5)
    return transfer_url(request, action, object_id, filename), []
