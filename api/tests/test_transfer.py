"""Run files through the wandb client's protocol: CreateRunFiles hands out signed upload links,
the client PUTs the bytes with no credentials, RunFiles lists them with download links. The
links carry their own expiring credential, naming one action on one file."""

import hashlib
import json
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
from django.core import signing
from django.core.files.storage import default_storage

from api import transfer
from projects.services import project_create
from runs.models import Run, RunFile
from tests.factories import api_key_for

from .test_graphql import gql, node_id, ok, refused

pytestmark = pytest.mark.django_db

METADATA = {
    "os": "Linux-6.18.44-fc-v669-x86_64-with-glibc2.36",
    "python": "CPython 3.12.1",
    "startedAt": "2026-11-25T14:35:47.675906Z",
    "program": "/work/shared/tools/wandb-recorder/client_run.py",
    "host": "vm",
    "cpu_count": 2,
}


@pytest.fixture
def run(team, alice):
    demo = project_create(entity=team, name="demo", creator=alice)
    return Run.objects.create(project=demo, author=alice, run_id="iehvayav")


def create_run_files(client, key, run, files):
    variables = {"entity": "example-team", "project": run.project.name, "run": run.run_id}
    return gql(client, key, "CreateRunFiles", {**variables, "files": files})


def upload_links(client, key, run, files):
    data = ok(create_run_files(client, key, run, files))["createRunFiles"]
    return {file["name"]: file["uploadUrl"] for file in data["files"]}


def put(client, url, content: bytes):
    # No Authorization header, as the client sends it.
    return client.put(url, content, content_type="application/octet-stream")


def read(response) -> bytes:
    return b"".join(response.streaming_content)


def run_files(client, key, run, **variables):
    defaults = {
        "entity": "example-team",
        "fileCursor": None,
        "fileLimit": 50,
        "fileNames": [],
        "name": run.run_id,
        "pattern": None,
        "project": run.project.name,
        "upload": False,
    }
    return ok(gql(client, key, "RunFiles", {**defaults, **variables}))["project"]


def token_of(url):
    return urlparse(url).path.split("/")[2]


def with_token(url, token):
    parts = urlparse(url).path.split("/")
    parts[2] = token
    return "/".join(parts)


def media_files(settings, folder):
    root = Path(settings.MEDIA_ROOT) / folder
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_create_run_files_hands_out_an_upload_link_per_file(client, run, alice_key):
    files = ["wandb-metadata.json", "requirements.txt", "output.log", "wandb-summary.json",
             "config.yaml"]  # fmt: skip

    data = ok(create_run_files(client, alice_key, run, files))["createRunFiles"]

    assert data["runID"] == node_id("Run", run.pk)
    assert data["uploadHeaders"] == []
    assert [file["name"] for file in data["files"]] == files
    for file in data["files"]:
        assert file["uploadUrl"].startswith("http://testserver/storage/")
        assert file["uploadUrl"].endswith("/" + file["name"])
    assert sorted(RunFile.objects.filter(run=run).values_list("name", flat=True)) == sorted(files)
    # Announced is not uploaded: nothing is listed yet.
    listed = run_files(client, alice_key, run)["run"]
    assert (listed["fileCount"], listed["files"]["edges"]) == (0, [])


def test_an_uploaded_file_is_stored_listed_and_downloaded(client, run, alice_key):
    content = b"numpy==2.3.0\nwandb==0.31.0\n"
    url = upload_links(client, alice_key, run, ["requirements.txt"])["requirements.txt"]

    response = put(client, url, content)

    assert response.status_code == 200
    stored = RunFile.objects.get(run=run, name="requirements.txt")
    assert stored.size == len(content)
    assert stored.md5 == hashlib.md5(content).hexdigest()
    assert stored.uploaded_at is not None
    with default_storage.open(stored.storage_name) as handle:
        assert handle.read() == content

    project = run_files(client, alice_key, run)
    assert project["internalId"] == str(run.project_id)
    assert project["run"]["fileCount"] == 1
    [edge] = project["run"]["files"]["edges"]
    node = edge["node"]
    assert edge["cursor"] == "requirements.txt"
    assert node["id"] == node_id("File", stored.pk)
    assert node["name"] == "requirements.txt"
    assert node["sizeBytes"] == len(content)
    assert node["md5"] == stored.md5
    assert node["url"] == node["directUrl"]
    assert node["directUrl"].startswith("http://testserver/storage/")
    assert node["directUrl"] != url
    assert project["run"]["files"]["pageInfo"] == {
        "endCursor": "requirements.txt",
        "hasNextPage": False,
    }

    download = client.get(node["directUrl"])  # no credentials either

    assert download.status_code == 200
    assert read(download) == content
    assert 'filename="requirements.txt"' in download["Content-Disposition"]


def test_uploading_again_replaces_the_file(client, run, alice_key, settings):
    url = upload_links(client, alice_key, run, ["output.log"])["output.log"]
    assert put(client, url, b"first version\n").status_code == 200

    assert put(client, url, b"second\n").status_code == 200

    stored = RunFile.objects.get(run=run, name="output.log")
    assert stored.size == len(b"second\n")
    # The earlier bytes are gone from storage.
    assert len(media_files(settings, f"runs/{run.pk}")) == 1
    node = run_files(client, alice_key, run)["run"]["files"]["edges"][0]["node"]
    assert read(client.get(node["directUrl"])) == b"second\n"


def test_files_in_folders_are_listed_by_name_pattern_and_page(client, run, alice_key):
    names = ["media/images/plot_0.png", "media/images/plot_1.png", "config.yaml", "output.log"]
    for name, url in upload_links(client, alice_key, run, names).items():
        assert url.endswith("/" + name.rsplit("/", 1)[-1])
        assert put(client, url, name.encode()).status_code == 200

    def listed(**variables):
        files = run_files(client, alice_key, run, **variables)["run"]["files"]
        return [edge["node"]["name"] for edge in files["edges"]], files["pageInfo"]

    assert listed()[0] == sorted(names)
    assert listed(pattern="media/%")[0] == names[:2]
    assert listed(pattern="media/images/plot__.png")[0] == names[:2]  # _ is one character
    assert listed(pattern="media/images/plot_.png")[0] == []
    assert listed(pattern="%.yaml")[0] == ["config.yaml"]
    assert listed(fileNames=["output.log", "missing"])[0] == ["output.log"]
    first, info = listed(fileLimit=3)
    assert (first, info["hasNextPage"]) == (sorted(names)[:3], True)
    rest, info = listed(fileLimit=3, fileCursor=info["endCursor"])
    assert (rest, info["hasNextPage"]) == (sorted(names)[3:], False)


def test_metadata_upload_fills_the_run_metadata(client, run, alice_key):
    url = upload_links(client, alice_key, run, ["wandb-metadata.json"])["wandb-metadata.json"]

    assert put(client, url, json.dumps(METADATA, indent=2).encode()).status_code == 200

    run.refresh_from_db()
    assert run.metadata == METADATA


def test_metadata_that_is_not_json_is_stored_but_not_read(client, run, alice_key):
    url = upload_links(client, alice_key, run, ["wandb-metadata.json"])["wandb-metadata.json"]

    assert put(client, url, b"{truncated").status_code == 200

    run.refresh_from_db()
    assert run.metadata == {}
    assert RunFile.objects.get(name="wandb-metadata.json").size == len(b"{truncated")


def test_a_tampered_token_is_404(client, run, alice_key):
    url = upload_links(client, alice_key, run, ["output.log"])["output.log"]
    token = token_of(url)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    # A token signed for something else (same key, another salt) is no link either.
    foreign = signing.dumps(["put-run-file", RunFile.objects.get().pk], compress=True)

    for bad in (flipped, token[:-4], "not-a-token", foreign):
        response = put(client, with_token(url, bad), b"evil")
        assert "invalid or has expired" in refused(response, 404)

    assert RunFile.objects.get().uploaded_at is None


def test_the_file_name_in_the_link_does_not_choose_the_file(client, run, alice_key):
    links = upload_links(client, alice_key, run, ["output.log", "config.yaml"])
    url = links["output.log"].rsplit("/", 1)[0] + "/config.yaml"

    assert put(client, url, b"log line\n").status_code == 200

    assert RunFile.objects.get(name="output.log").size == len(b"log line\n")
    assert RunFile.objects.get(name="config.yaml").uploaded_at is None


@pytest.fixture
def later(monkeypatch):
    """Move the clock the signatures are checked against by some seconds."""

    def move(seconds):
        now = time.time() + seconds
        monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: now))

    return move


def test_an_expired_link_is_404(client, run, alice_key, settings, later):
    settings.STORAGE_URL_MAX_AGE = 3600
    url = upload_links(client, alice_key, run, ["output.log"])["output.log"]

    later(3500)
    assert put(client, url, b"in time").status_code == 200

    later(3602)
    assert "expired" in refused(put(client, url, b"too late"), 404)
    node = run_files(client, alice_key, run)["run"]["files"]["edges"][0]["node"]
    later(3602 + 3602)
    refused(client.get(node["directUrl"]), 404)
    assert RunFile.objects.get().size == len(b"in time")


def test_with_a_max_age_of_zero_links_expire_at_once(client, run, alice_key, settings, later):
    settings.STORAGE_URL_MAX_AGE = 0
    url = upload_links(client, alice_key, run, ["output.log"])["output.log"]
    later(1)

    refused(put(client, url, b"data"), 404)


def test_each_link_takes_one_method(client, run, alice_key):
    url = upload_links(client, alice_key, run, ["output.log"])["output.log"]

    response = client.get(url)
    assert "PUT" in refused(response, 405)
    assert response["Allow"] == "PUT"
    assert put(client, url, b"hello").status_code == 200
    download = run_files(client, alice_key, run)["run"]["files"]["edges"][0]["node"]["directUrl"]

    response = put(client, download, b"overwrite")
    assert "GET" in refused(response, 405)
    assert response["Allow"] == "GET"
    refused(client.post(download, b"x", content_type="text/plain"), 405)
    refused(client.delete(download), 405)
    assert read(client.get(download)) == b"hello"


def test_a_link_to_a_file_that_is_gone_is_404(client, run, alice_key):
    url = upload_links(client, alice_key, run, ["output.log"])["output.log"]
    put(client, url, b"hello")
    download = run_files(client, alice_key, run)["run"]["files"]["edges"][0]["node"]["directUrl"]
    Run.objects.all().delete()

    refused(put(client, url, b"again"), 404)
    refused(client.get(download), 404)


def test_a_download_link_to_a_file_not_uploaded_is_404(client, run, rf):
    run_file = RunFile.objects.create(run=run, name="output.log")
    url = transfer.transfer_url(rf.get("/"), transfer.GET_RUN_FILE, run_file.pk, "output.log")

    refused(client.get(url), 404)


def test_only_those_who_may_change_the_run_get_upload_links(client, run, bob, charlie, sam_and_key):
    assert "author" in refused(create_run_files(client, api_key_for(bob), run, ["x.txt"]), 403)
    refused(create_run_files(client, api_key_for(charlie), run, ["x.txt"]), 404)
    missing = Run(project=run.project, run_id="missing")
    refused(create_run_files(client, api_key_for(run.author), missing, ["x.txt"]), 404)
    assert not RunFile.objects.exists()
    # The team's service account writes to the runs it logs for members, not to others'.
    sam, sam_key = sam_and_key
    bobs = Run.objects.create(project=run.project, author=bob, run_id="bobs")
    refused(create_run_files(client, sam_key, bobs, ["x.txt"]), 403)
    bobs.logged_by = sam
    bobs.save()
    assert upload_links(client, sam_key, bobs, ["x.txt"])["x.txt"]


@pytest.mark.parametrize(
    "name", ["../escape.txt", "/etc/passwd", "a//b", "a/./b", "back\\slash", "x" * 1100, "nul\x00"]
)
def test_bad_file_names_are_400_and_nothing_is_created(client, run, alice_key, name):
    response = create_run_files(client, alice_key, run, ["fine.txt", name])

    message = refused(response, 400)
    assert "not a valid file name" in message or "NUL" in message
    assert not RunFile.objects.exists()


def test_announcing_the_same_file_twice_gives_one_row(client, run, alice_key):
    data = ok(create_run_files(client, alice_key, run, ["a.txt", "a.txt"]))["createRunFiles"]

    assert [file["name"] for file in data["files"]] == ["a.txt"]
    assert RunFile.objects.count() == 1
    again = upload_links(client, alice_key, run, ["a.txt"])
    assert list(again) == ["a.txt"]
    assert RunFile.objects.count() == 1
