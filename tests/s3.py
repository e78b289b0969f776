"""A real S3 API server on loopback (moto's standalone server, in a thread of the test process),
started once per test session. A test that asks for `s3_storage` stores its files in a bucket of
its own there, and the site hands out presigned links to it, as in production."""

import logging
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer

from teamsite.lib.objectstore import s3_storage_settings

# The server takes any keys (it checks no signature); these only have to be set.
TEST_KEYS = {"AWS_ACCESS_KEY_ID": "teamsite-test", "AWS_SECRET_ACCESS_KEY": "teamsite-test-secret"}
REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_server():
    """The server's endpoint URL; boto3 finds the test keys in the environment."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in TEST_KEYS.items():
            patch.setenv(name, value)
        yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server):
    """A new, empty bucket: a boto3 client on it and its name."""
    client = boto3.client("s3", endpoint_url=s3_server, region_name=REGION)
    name = f"teamsite-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return client, name


@pytest.fixture
def s3_storage(settings, s3_server, s3_bucket):
    """The site's files in a bucket of this test's own (STORAGE_URL=s3://... as an operator
    sets it). Yields the boto3 client and the bucket's name, to look inside."""
    client, bucket = s3_bucket
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage_settings(
            f"s3://{bucket}",
            endpoint_url=s3_server,
            region=REGION,
            url_max_age=settings.STORAGE_URL_MAX_AGE,
        ),
    }
    return client, bucket
