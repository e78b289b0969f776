"""Thumbnails of the images a run logged, made once with Pillow and kept in storage."""

import io
import logging
from typing import Protocol

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image, UnidentifiedImageError

logger = logging.getLogger(__name__)

THUMBNAIL_WIDTH = 512
# A thumbnail keeps the image's proportions within this box.
THUMBNAIL_BOX = (THUMBNAIL_WIDTH, 4 * THUMBNAIL_WIDTH)
# Images larger than these are not decoded: a small file can unpack to gigabytes of pixels.
MAX_SOURCE_BYTES = 64 * 1024 * 1024
# Logged images (wandb.Image saves PNG, or the format it was given): their thumbnails are made
# ahead of the first page that shows one.
THUMBNAIL_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")
MAX_SOURCE_PIXELS = 40_000_000


class StoredFile(Protocol):
    """A run file or an artifact file: the uploaded bytes an image is read from."""

    pk: int
    md5: str
    size: int | None
    storage_name: str
    # Run files and artifact files count their ids apart: each kind has a folder of its own.
    thumbnail_folder: str


def thumbnail_name(file: StoredFile) -> str:
    # The checksum changes when the client uploads the file again under the same name.
    return f"{file.thumbnail_folder}/{file.pk}-{file.md5[:12]}-{THUMBNAIL_WIDTH}.webp"


def _make_thumbnail(file: StoredFile) -> bytes | None:
    if not file.storage_name or file.size is None or file.size > MAX_SOURCE_BYTES:
        return None
    try:
        with default_storage.open(file.storage_name) as handle, Image.open(handle) as image:
            # Only the header is read so far: refuse before decoding the pixels.
            if image.width * image.height > MAX_SOURCE_PIXELS:
                return None
            image.thumbnail(THUMBNAIL_BOX)
            if image.mode not in ("RGB", "RGBA"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            image.save(out, "WEBP", quality=85)
            return out.getvalue()
    except FileNotFoundError:
        return None
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
    ):
        logger.info("Run file %s is not an image Teamsite can read.", file.pk)
        return None


def thumbnail(file: StoredFile) -> bytes | None:
    """The file's thumbnail, made on the first request and kept; None if it is not an image."""
    name = thumbnail_name(file)
    if default_storage.exists(name):
        with default_storage.open(name) as handle:
            return handle.read()
    return _make_and_keep(file, name)


def thumbnail_prepare(file: StoredFile) -> bool:
    """Make and keep the file's thumbnail ahead of the first page that shows it (a task after
    the upload); True if there is one."""
    name = thumbnail_name(file)
    return default_storage.exists(name) or _make_and_keep(file, name) is not None


def _make_and_keep(file: StoredFile, name: str) -> bytes | None:
    data = _make_thumbnail(file)
    if data is not None:
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:  # made at the same time by another request
            default_storage.delete(saved)
    return data


# A signed link to one run file's thumbnail: a page shown to readers without a session (a
# report read through a share link) hands them images this way. The link names the file by
# its primary key and expires with the storage's own links (STORAGE_URL_MAX_AGE).
SIGNED_SALT = "runs.media.thumbnail"


def signed_thumbnail_url(file: StoredFile) -> str:
    token = signing.dumps(file.pk, salt=SIGNED_SALT)
    return reverse("runs:signed_thumbnail", args=[token])


def read_thumbnail_token(token: str) -> int | None:
    """The run file's primary key a signed link names, or None if it is forged or expired."""
    try:
        pk = signing.loads(token, salt=SIGNED_SALT, max_age=settings.STORAGE_URL_MAX_AGE)
    except signing.BadSignature:
        return None
    return pk if isinstance(pk, int) else None
