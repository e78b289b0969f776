"""Large artifact files the client sends in parts (it asks for parts above its own threshold,
2 GiB in the client this server is tested with). On S3-compatible storage each part goes
straight to the bucket; on local disk the client gets no part links and sends the file whole."""

import re

from teamsite.lib import objectstore

from .models import Artifact, ArtifactFile
from .services import ArtifactError, check_pending

# S3's own limit on the parts of one upload.
MAX_PARTS = 10_000
HEX_MD5 = re.compile(r"\A[0-9a-f]{32}\Z")
MAX_ETAG_LENGTH = 128
MAX_UPLOAD_ID_LENGTH = 1024


def _numbered(parts, value_ok, what: str) -> dict[int, str]:
    """{part number: value} for the client's [{partNumber, hexMD5}]: numbered 1 to n, once
    each. S3's ETags come quoted; the quotes are dropped."""
    numbered = {}
    for part in parts or []:
        number, value = part.get("partNumber"), str(part.get("hexMD5") or "").strip('"').lower()
        if not isinstance(number, int) or number in numbered or not value_ok(value):
            raise ArtifactError(f"Each upload part needs a number, once, and {what}.")
        numbered[number] = value
    if sorted(numbered) != list(range(1, len(numbered) + 1)) or len(numbered) > MAX_PARTS:
        raise ArtifactError(f"Upload parts are numbered from 1 to at most {MAX_PARTS}, in full.")
    return numbered


def announced_parts(parts) -> dict[int, str]:
    """The parts the client will send: {number: hex MD5}, the MD5 signed into its link."""
    return _numbered(parts, HEX_MD5.match, "the hex MD5 of its bytes")


def multipart_links(artifact_file: ArtifactFile, parts: dict[int, str]) -> dict | None:
    """uploadMultipartUrls for a file the client sends in parts; None on local disk."""
    if not parts or objectstore.direct_storage() is None:
        return None
    upload_id, links = objectstore.multipart_upload_start(artifact_file.storage_name, parts)
    return {"uploadID": upload_id, "uploadUrlParts": links}


def multipart_complete(
    artifact: Artifact, *, storage_path: str, upload_id: str, parts, abort: bool = False
) -> ArtifactFile:
    """Join a file's uploaded parts ({number: ETag}) in the bucket, or abandon them. The
    file counts as uploaded once the commit has found it there."""
    check_pending(artifact)
    artifact_file = artifact.files.filter(storage_name=storage_path).first()
    if artifact_file is None:
        raise ArtifactError(f"{artifact} has no file stored as “{storage_path}”.")
    if objectstore.direct_storage() is None:
        raise ArtifactError("This server takes files whole; it gave out no upload in parts.")
    if not upload_id or len(upload_id) > MAX_UPLOAD_ID_LENGTH:
        raise ArtifactError("An upload in parts needs the uploadID it was given.")
    etags = None
    if not abort:
        etags = _numbered(parts, lambda etag: 0 < len(etag) <= MAX_ETAG_LENGTH, "its ETag")
        if not etags:
            raise ArtifactError("An upload in parts is completed with its parts.")
    try:
        objectstore.multipart_upload_end(storage_path, upload_id, etags)
    except objectstore.StorageRefused as error:
        raise ArtifactError(f"{artifact_file.name}: {error}") from None
    return artifact_file
