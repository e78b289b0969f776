"""Upload and download links for the wandb client. It sends no credentials to them, so each
link carries its own: a signed, expiring token naming one action on one object."""

from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.urls import reverse

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
