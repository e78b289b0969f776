"""Files in S3-compatible object storage, reached by the wandb client directly: presigned links
to upload and download, and a HEAD request to learn what an upload left in the bucket. On local
disk none of this applies: the client's links go through the site (api/transfer.py)."""

import base64
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.utils.http import content_disposition_header

S3_BACKEND = "storages.backends.s3.S3Storage"
# An ETag is the object's hex MD5 when it was uploaded in one PUT (not multipart).
SINGLE_PART_ETAG = re.compile(r"\A[0-9a-f]{32}\Z")
# HEAD requests at once when a commit checks many files.
HEAD_WORKERS = 8


def s3_storage_settings(url: str, *, endpoint_url: str, region: str, url_max_age: int) -> dict:
    """STORAGES["default"] for STORAGE_URL=s3://bucket[/prefix]."""
    from botocore.config import Config

    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured("STORAGE_URL must look like s3://bucket or s3://bucket/prefix.")
    return {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": parts.netloc,
            "location": parts.path.strip("/"),
            "endpoint_url": endpoint_url or None,
            "region_name": region,
            "default_acl": "private",
            # Every URL the storage makes is presigned and expires; none is public.
            "querystring_auth": True,
            "querystring_expire": url_max_age,
            "file_overwrite": True,
            "client_config": Config(
                # A server of one's own (MinIO, Ceph, a test server) is reached by path.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                signature_version="s3v4",
                # /readyz must answer quickly when the bucket is unreachable.
                connect_timeout=5,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        },
    }


def direct_storage():
    """The default storage when the client can reach it itself (S3), else None."""
    if settings.STORAGES["default"]["BACKEND"] != S3_BACKEND:
        return None
    return storages["default"]


def _object_key(storage, name: str) -> str:
    from storages.utils import clean_name

    return storage._normalize_name(clean_name(name))


def presigned_download(storage_name: str, filename: str) -> str:
    """A GET link to a stored object; the browser or client saves it under `filename`."""
    storage = direct_storage()
    disposition = content_disposition_header(True, filename.rsplit("/", 1)[-1] or "file")
    return storage.url(storage_name, parameters={"ResponseContentDisposition": disposition})


def presigned_upload(storage_name: str, md5: str | None = None) -> tuple[str, list[str]]:
    """A PUT link to a stored object's key, and the headers the client must send with it
    ("Name:value", as the client's uploadHeaders). With the base64 `md5`, Content-MD5 is part
    of the signature: the storage takes those bytes only."""
    storage = direct_storage()
    params = {"Bucket": storage.bucket_name, "Key": _object_key(storage, storage_name)}
    headers = []
    if md5:
        params["ContentMD5"] = md5
        headers.append(f"Content-MD5:{md5}")
    url = storage.connection.meta.client.generate_presigned_url(
        "put_object", Params=params, ExpiresIn=settings.STORAGE_URL_MAX_AGE
    )
    return url, headers


class StorageRefused(Exception):
    """The storage refused a request for reasons of the client's making (an unknown upload,
    a part missing or too small); the message names its error code."""


def _refusal(error) -> StorageRefused:
    code = error.response.get("Error", {}).get("Code", "")
    return StorageRefused(f"The storage refused the upload ({code or 'no reason given'}).")


def multipart_upload_start(storage_name: str, part_md5s: dict[int, str]) -> tuple[str, list]:
    """Open a multipart upload to a stored object's key: its id, and a PUT link per part
    (partNumber, uploadUrl), each with that part's hex MD5 signed in as Content-MD5."""
    storage = direct_storage()
    client = storage.connection.meta.client
    target = {"Bucket": storage.bucket_name, "Key": _object_key(storage, storage_name)}
    upload_id = client.create_multipart_upload(**target)["UploadId"]
    links = [
        {
            "partNumber": number,
            "uploadUrl": client.generate_presigned_url(
                "upload_part",
                Params={
                    **target,
                    "UploadId": upload_id,
                    "PartNumber": number,
                    "ContentMD5": base64.b64encode(bytes.fromhex(md5)).decode(),
                },
                ExpiresIn=settings.STORAGE_URL_MAX_AGE,
            ),
        }
        for number, md5 in sorted(part_md5s.items())
    ]
    return upload_id, links


def multipart_upload_end(storage_name: str, upload_id: str, parts: dict[int, str] | None) -> None:
    """Join the uploaded parts ({part number: ETag}) into the object, or, with None, abandon
    the upload and its parts."""
    from botocore.exceptions import ClientError

    storage = direct_storage()
    client = storage.connection.meta.client
    target = {
        "Bucket": storage.bucket_name,
        "Key": _object_key(storage, storage_name),
        "UploadId": upload_id,
    }
    try:
        if parts is None:
            client.abort_multipart_upload(**target)
        else:
            client.complete_multipart_upload(
                **target,
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": number, "ETag": etag}
                        for number, etag in sorted(parts.items())
                    ]
                },
            )
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
        if 400 <= status < 500:
            raise _refusal(error) from None
        raise


@dataclass(frozen=True)
class StoredObject:
    size: int
    md5: str | None  # hex; None when the storage does not say (a multipart upload)


def stored_objects(names) -> dict[str, StoredObject]:
    """What the bucket holds under these storage names (a HEAD each); absent ones are left out."""
    from botocore.exceptions import ClientError

    storage = direct_storage()
    client = storage.connection.meta.client  # boto3 clients may be shared between threads

    def head(name):
        try:
            answer = client.head_object(Bucket=storage.bucket_name, Key=_object_key(storage, name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return name, None
            raise
        etag = answer.get("ETag", "").strip('"')
        # Encrypted with a KMS or customer key, an object's ETag is not its MD5 (S3 checked the
        # signed Content-MD5 at the upload instead).
        encrypted = answer.get("ServerSideEncryption", "").startswith("aws:kms") or answer.get(
            "SSECustomerAlgorithm"
        )
        md5 = etag if SINGLE_PART_ETAG.match(etag) and not encrypted else None
        return name, StoredObject(answer["ContentLength"], md5)

    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        found = map(head, names)
    else:
        with ThreadPoolExecutor(max_workers=min(HEAD_WORKERS, len(names))) as pool:
            found = list(pool.map(head, names))
    return {name: stored for name, stored in found if stored is not None}
