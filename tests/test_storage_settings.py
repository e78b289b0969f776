"""STORAGE_URL chooses where files live: unset, local disk (MEDIA_ROOT); s3://bucket[/prefix],
an S3-compatible bucket through django-storages, with private objects and presigned links."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from teamsite.lib import objectstore
from teamsite.lib.objectstore import s3_storage_settings

ROOT = Path(__file__).resolve().parent.parent
SHOW_STORAGE = (
    "import json, django; django.setup(); from django.conf import settings; "
    "options = dict(settings.STORAGES['default'].get('OPTIONS', {})); "
    "options.pop('client_config', None); "
    "print(json.dumps([settings.STORAGES['default']['BACKEND'], options]))"
)


def storage_settings_with(**env):
    """STORAGES["default"] as the settings make it from this environment, in a new process."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("STORAGE", "S3_"))
    }
    completed = subprocess.run(
        [sys.executable, "-c", SHOW_STORAGE],
        env={**environment, "DJANGO_SETTINGS_MODULE": "teamsite.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)


def test_without_storage_url_files_stay_on_local_disk():
    backend, _ = storage_settings_with()
    assert backend == "django.core.files.storage.FileSystemStorage"


def test_storage_url_puts_files_in_a_private_bucket():
    backend, options = storage_settings_with(
        STORAGE_URL="s3://team-files/teamsite",
        S3_ENDPOINT_URL="http://127.0.0.1:9000",
        STORAGE_URL_MAX_AGE="600",
    )
    assert backend == "storages.backends.s3.S3Storage"
    assert options == {
        "bucket_name": "team-files",
        "location": "teamsite",
        "endpoint_url": "http://127.0.0.1:9000",
        "region_name": "us-east-1",
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": 600,
        "file_overwrite": True,
    }


@pytest.mark.parametrize("url", ["team-files", "s3://", "gs://team-files", "s3://b?x=1"])
def test_a_storage_url_that_is_not_a_bucket_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="s3://bucket"):
        s3_storage_settings(url, endpoint_url="", region="us-east-1", url_max_age=60)


def test_a_prefix_keeps_every_object_under_it(settings, s3_server, s3_bucket):
    client, bucket = s3_bucket
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage_settings(
            f"s3://{bucket}/site", endpoint_url=s3_server, region="us-east-1", url_max_age=60
        ),
    }
    assert default_storage.save("runs/1/a.txt", ContentFile(b"a")) == "runs/1/a.txt"
    url, _ = objectstore.presigned_upload("runs/1/b.txt")
    assert f"/{bucket}/site/runs/1/b.txt?" in url
    listing = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listing] == ["site/runs/1/a.txt"]
    assert objectstore.stored_objects(["runs/1/a.txt", "runs/1/b.txt"]) == {
        "runs/1/a.txt": objectstore.StoredObject(1, "0cc175b9c0f1b6a831c399e269772661")
    }


def test_the_etag_of_an_object_encrypted_with_a_kms_key_is_not_taken_for_its_md5(
    settings, s3_server, s3_bucket
):
    client, bucket = s3_bucket
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage_settings(
            f"s3://{bucket}", endpoint_url=s3_server, region="us-east-1", url_max_age=60
        ),
    }
    client.put_object(Bucket=bucket, Key="plain", Body=b"a")
    client.put_object(Bucket=bucket, Key="kms", Body=b"a", ServerSideEncryption="aws:kms")
    found = objectstore.stored_objects(["plain", "kms"])
    assert found["plain"].md5 == "0cc175b9c0f1b6a831c399e269772661"
    assert found["kms"] == objectstore.StoredObject(1, None)
