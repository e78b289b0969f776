"""Files in S3-compatible storage (a real S3 API server on loopback, tests/s3.py): the site hands
the client presigned links to the bucket, the bytes go there straight, and the site checks what
arrived before it counts a file as uploaded: at the commit for artifact files, on file_stream's
"uploaded" for run files."""

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from artifacts.models import Artifact, ArtifactFile
from projects.services import project_create
from runs.models import Run, RunFile
from teamsite.lib.objectstore import s3_storage_settings

from .test_artifacts_api import (
    MODEL,
    NOTES,
    artifact_of,
    b64md5,
    commit,
    create_artifact,
    create_files,
    create_manifest,
    file_urls,
    manifest_of,
    upload_manifest,
)
from .test_graphql import basic, gql, ok, refused
from .test_transfer import METADATA, create_run_files, run_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(team, alice):
    demo = project_create(entity=team, name="demo", creator=alice)
    return Run.objects.create(project=demo, author=alice, run_id="iehvayav")


def bucket_keys(s3_storage, prefix=""):
    client, bucket = s3_storage
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def is_bucket_link(url, s3_server, bucket):
    """A presigned link to the S3 server, not a link to the site."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return (
        f"{parts.scheme}://{parts.netloc}" == s3_server
        and parts.path.startswith(f"/{bucket}/")
        and "X-Amz-Signature" in query
        and "/storage/" not in parts.path
    )


def announce(client, key, files, **changes):
    """CreateArtifact, its manifest and CreateArtifactFiles; returns (artifact id, file nodes)."""
    created = ok(create_artifact(client, key, files=files, **changes))["createArtifact"]
    artifact_id = created["artifact"]["id"]
    manifest = ok(create_manifest(client, key, artifact_id, include_upload=False))
    manifest_id = manifest["createArtifactManifest"]["artifactManifest"]["id"]
    edges = ok(create_files(client, key, artifact_id, manifest_id, files))["createArtifactFiles"]
    nodes = [edge["node"] for edge in edges["files"]["edges"]]
    return artifact_id, dict(zip(files, nodes, strict=True))


def put_to_bucket(node, content: bytes):
    """The client's PUT: the upload link and the headers the site asked for, nothing else."""
    headers = dict(header.split(":", 1) for header in node.get("uploadHeaders") or [])
    return requests.put(node["uploadUrl"], data=content, headers=headers, timeout=10)


def log_artifact(client, key, files: dict[str, bytes], **changes):
    """run.log_artifact() with S3 storage; returns the artifact's id and each upload link."""
    artifact_id, nodes = announce(client, key, files, **changes)
    for name, node in nodes.items():
        if node["uploadUrl"] is not None:
            assert put_to_bucket(node, files[name]).status_code == 200
    upload_manifest(client, key, artifact_id, files)
    ok(commit(client, key, artifact_id))
    return artifact_id, {name: node["uploadUrl"] for name, node in nodes.items()}


def test_the_storage_keeps_reads_and_deletes_files_in_the_bucket(s3_storage):
    name = default_storage.save("runs/1/notes.txt", ContentFile(NOTES))
    assert name == "runs/1/notes.txt"
    assert bucket_keys(s3_storage) == ["runs/1/notes.txt"]
    assert default_storage.exists(name) and default_storage.size(name) == len(NOTES)
    with default_storage.open(name) as handle:
        assert handle.read() == NOTES
    # Its URL is presigned and expires: the bucket is private.
    query = parse_qs(urlsplit(default_storage.url(name)).query)
    assert "X-Amz-Signature" in query and query["X-Amz-Expires"] == ["86400"]
    assert requests.get(default_storage.url(name), timeout=10).content == NOTES
    default_storage.delete(name)
    assert bucket_keys(s3_storage) == []


def test_artifact_files_go_to_the_bucket_and_back_without_the_site(
    client, run, alice_key, s3_storage, s3_server
):
    _, bucket = s3_storage
    files = {"model.bin": MODEL, "notes.txt": NOTES}
    artifact_id, nodes = announce(client, alice_key, files)
    for name, node in nodes.items():
        assert is_bucket_link(node["uploadUrl"], s3_server, bucket)
        # The MD5 is part of the signature, and the client is told to send it.
        query = parse_qs(urlsplit(node["uploadUrl"]).query)
        assert "content-md5" in query["X-Amz-SignedHeaders"][0].split(";")
        assert node["uploadHeaders"] == [f"Content-MD5:{b64md5(files[name])}"]
        assert put_to_bucket(node, files[name]).status_code == 200
    # Uploaded, but not counted until the commit has checked the bucket.
    assert set(ArtifactFile.objects.values_list("size", flat=True)) == {None}
    upload_manifest(client, alice_key, artifact_id, files)
    ok(commit(client, alice_key, artifact_id))

    artifact = artifact_of(artifact_id)
    assert artifact.state == Artifact.State.COMMITTED
    stored = {file.name: file for file in artifact.files.all()}
    assert {name: file.size for name, file in stored.items()} == {
        "model.bin": len(MODEL),
        "notes.txt": len(NOTES),
    }
    # Content-addressed keys under wandb_artifacts/, and the manifest beside them.
    entity = run.project.entity_id
    assert bucket_keys(s3_storage, "wandb_artifacts/") == sorted(
        f"wandb_artifacts/{entity}/{md5[:2]}/{md5}"
        for md5 in (hashlib.md5(content).hexdigest() for content in files.values())
    )
    assert bucket_keys(s3_storage, "artifacts/manifests/") == [artifact.manifest_storage_name]

    listing = file_urls(client, alice_key, "v0")["artifactCollection"]["artifactMembership"]
    urls = {edge["node"]["name"]: edge["node"]["directUrl"] for edge in listing["files"]["edges"]}
    for name, url in urls.items():
        assert is_bucket_link(url, s3_server, bucket)
        answer = requests.get(url, timeout=10)
        assert answer.content == files[name]
        assert f'filename="{name}"' in answer.headers["Content-Disposition"]
    manifest = ok(gql(client, alice_key, "FetchArtifactManifest", {"id": artifact_id}))
    manifest_url = manifest["artifact"]["currentManifest"]["file"]["directUrl"]
    assert is_bucket_link(manifest_url, s3_server, bucket)
    assert json.loads(requests.get(manifest_url, timeout=10).content) == json.loads(
        manifest_of(files, artifact_id)
    )


def test_bytes_that_do_not_match_their_md5_fail_the_commit_and_change_nothing(
    client, run, alice_key, s3_storage
):
    files = {"model.bin": MODEL, "notes.txt": NOTES}
    artifact_id, nodes = announce(client, alice_key, files)
    assert put_to_bucket(nodes["notes.txt"], NOTES).status_code == 200
    # A client that sends other bytes without the header (a server that checked the signed
    # Content-MD5 would refuse the PUT itself; the test server does not).
    assert requests.put(nodes["model.bin"]["uploadUrl"], data=b"tampered", timeout=10).ok
    upload_manifest(client, alice_key, artifact_id, files)

    message = refused(commit(client, alice_key, artifact_id), 400)
    assert "do not match their MD5" in message and "model.bin" in message
    artifact = artifact_of(artifact_id)
    assert artifact.state == Artifact.State.PENDING
    assert set(artifact.files.values_list("size", flat=True)) == {None}
    assert not artifact.aliases.exists()

    # Uploaded again, right: the commit goes through.
    assert put_to_bucket(nodes["model.bin"], MODEL).status_code == 200
    ok(commit(client, alice_key, artifact_id))
    assert artifact_of(artifact_id).state == Artifact.State.COMMITTED


def test_a_commit_with_a_file_missing_from_the_bucket_fails_and_changes_nothing(
    client, run, alice_key, s3_storage
):
    files = {"model.bin": MODEL, "notes.txt": NOTES}
    artifact_id, nodes = announce(client, alice_key, files)
    assert put_to_bucket(nodes["notes.txt"], NOTES).status_code == 200
    upload_manifest(client, alice_key, artifact_id, files)

    message = refused(commit(client, alice_key, artifact_id), 400)
    assert "files not uploaded yet: model.bin" in message
    artifact = artifact_of(artifact_id)
    assert artifact.state == Artifact.State.PENDING
    # notes.txt is in the bucket, but nothing of the refused commit was kept.
    assert set(artifact.files.values_list("size", flat=True)) == {None}
    assert not artifact.aliases.exists()


def test_the_same_bytes_in_two_versions_are_one_object(client, run, alice_key, s3_storage):
    _, first = log_artifact(client, alice_key, {"model.bin": MODEL})
    assert first["model.bin"] is not None
    _, second = log_artifact(
        client, alice_key, {"model.bin": MODEL, "notes.txt": NOTES}, **{"description": "v1"}
    )
    assert second["model.bin"] is None  # stored already: no upload link
    assert second["notes.txt"] is not None
    assert len(bucket_keys(s3_storage, "wandb_artifacts/")) == 2
    assert Artifact.objects.filter(state=Artifact.State.COMMITTED).count() == 2


def test_download_links_only_for_those_who_may_see_the_project(
    client, run, alice_key, bob_key, charlie_key, s3_storage, s3_server
):
    _, bucket = s3_storage
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL})
    outsider = ok(
        gql(
            client,
            charlie_key,
            "GetArtifactMembershipFileUrls",
            {
                "alias": "v0",
                "collection": "mymodel",
                "cursor": None,
                "entity": "example-team",
                "perPage": 50,
                "project": "demo",
            },
        )
    )
    assert outsider["project"] is None

    hexhash = ArtifactFile.objects.get().storage_name.rsplit("/", 1)[-1]
    path = (
        f"/artifactsV2/default/example-team/demo/mymodel/{artifact_id}/{artifact_id}"
        f"/{hexhash}/model.bin"
    )
    assert client.get(path, headers={"Authorization": basic(charlie_key)}).status_code == 404
    assert client.get(path).status_code == 401
    answer = client.get(path, headers={"Authorization": basic(bob_key)})
    assert answer.status_code == 302 and is_bucket_link(answer["Location"], s3_server, bucket)
    assert requests.get(answer["Location"], timeout=10).content == MODEL


def test_a_pages_download_streams_from_the_bucket_to_members_only(
    client, run, alice_key, bob, charlie, s3_storage
):
    # Pages show files inline (images, video, figures) under a same-site Content Security
    # Policy: the site streams them, it does not redirect.
    log_artifact(client, alice_key, {"model.bin": MODEL})
    url = reverse("artifacts:file", args=["example-team", "demo", "mymodel", 0, "model.bin"])
    client.force_login(charlie)
    assert client.get(url).status_code == 404
    client.force_login(bob)
    answer = client.get(url)
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == MODEL


def file_stream(client, key, run, payload):
    return client.post(
        f"/files/example-team/{run.project.name}/{run.run_id}/file_stream",
        json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": basic(key)},
    )


def test_run_files_go_to_the_bucket_and_count_once_the_client_says_so(
    client, run, alice_key, s3_storage, s3_server
):
    _, bucket = s3_storage
    names = ["wandb-metadata.json", "src/utils.py"]
    data = ok(create_run_files(client, alice_key, run, names))["createRunFiles"]
    links = {file["name"]: file for file in data["files"]}
    contents = {"wandb-metadata.json": json.dumps(METADATA).encode(), "src/utils.py": b"x = 1\n"}
    for name, content in contents.items():
        assert is_bucket_link(links[name]["uploadUrl"], s3_server, bucket)
        assert put_to_bucket(links[name], content).status_code == 200
    assert bucket_keys(s3_storage) == sorted(f"runs/{run.pk}/{name}" for name in names)
    # In the bucket, but not yet a file of the run: the client has not said it is done.
    assert not RunFile.objects.exclude(uploaded_at=None).exists()

    answer = file_stream(client, alice_key, run, {"uploaded": [*names, "never-announced.txt"]})
    assert answer.status_code == 200, answer.content
    stored = {file.name: file for file in run.files.exclude(uploaded_at=None)}
    assert set(stored) == set(names)
    assert stored["src/utils.py"].size == len(contents["src/utils.py"])
    assert stored["src/utils.py"].storage_name == f"runs/{run.pk}/src/utils.py"
    run.refresh_from_db()
    assert run.metadata["host"] == "vm"  # read from the bucket, as from an upload to the site

    listed = run_files(client, alice_key, run, fileNames=["src/utils.py"])
    node = listed["run"]["files"]["edges"][0]["node"]
    assert is_bucket_link(node["directUrl"], s3_server, bucket)
    assert requests.get(node["directUrl"], timeout=10).content == b"x = 1\n"


def test_an_uploaded_report_for_a_file_not_in_the_bucket_changes_nothing(
    client, run, alice_key, s3_storage
):
    ok(create_run_files(client, alice_key, run, ["output.log"]))
    answer = file_stream(client, alice_key, run, {"uploaded": ["output.log"]})
    assert answer.status_code == 200
    assert RunFile.objects.get(run=run, name="output.log").uploaded_at is None


def test_readyz_needs_the_bucket(client, settings, s3_storage, s3_server):
    assert client.get("/readyz").json()["storage"] == "ok"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "bucket_name": "no-such-bucket"},
        },
    }
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["storage"] == "unavailable"


COMPLETE_MULTIPART = """
mutation CompleteMultipartUploadArtifact($completeMultipartAction: CompleteMultipartAction!,
    $completedParts: [UploadPartsInput!]!, $artifactID: ID!, $storagePath: String!,
    $uploadID: String!) {
  completeMultipartUploadArtifact(input: {completeMultipartAction: $completeMultipartAction,
      completedParts: $completedParts, artifactID: $artifactID, storagePath: $storagePath,
      uploadID: $uploadID}) {
    digest
  }
}
"""
PART_SIZE = 5 * 1024 * 1024  # S3's smallest part but the last


def announce_in_parts(client, key, files, parts):
    created = ok(create_artifact(client, key, files=files))["createArtifact"]
    artifact_id = created["artifact"]["id"]
    manifest = ok(create_manifest(client, key, artifact_id, include_upload=False))
    manifest_id = manifest["createArtifactManifest"]["artifactManifest"]["id"]
    specs = {
        "artifactID": artifact_id,
        "artifactManifestID": manifest_id,
        "md5": b64md5(files["big.bin"]),
        "mimetype": None,
        "name": "big.bin",
        "uploadPartsInput": [
            {"partNumber": number, "hexMD5": hashlib.md5(part).hexdigest()}
            for number, part in enumerate(parts, start=1)
        ],
    }
    variables = {"input": {"artifactFiles": [specs], "storageLayout": "V2"}}
    answer = gql(client, key, "CreateArtifactFiles", variables)
    return artifact_id, answer


def complete_in_parts(client, key, artifact_id, node, etags, action="Complete"):
    variables = {
        "completeMultipartAction": action,
        "completedParts": [
            {"partNumber": number, "hexMD5": etag} for number, etag in enumerate(etags, start=1)
        ],
        "artifactID": artifact_id,
        "storagePath": node["storagePath"],
        "uploadID": node["uploadMultipartUrls"]["uploadID"],
    }
    return gql(client, key, "CompleteMultipartUploadArtifact", variables, query=COMPLETE_MULTIPART)


def test_a_large_file_goes_to_the_bucket_in_parts(client, run, alice_key, s3_storage, s3_server):
    _, bucket = s3_storage
    parts = [b"a" * PART_SIZE, b"tail"]
    files = {"big.bin": b"".join(parts)}
    artifact_id, answer = announce_in_parts(client, alice_key, files, parts)
    node = ok(answer)["createArtifactFiles"]["files"]["edges"][0]["node"]
    links = node["uploadMultipartUrls"]["uploadUrlParts"]
    assert [link["partNumber"] for link in links] == [1, 2]
    etags = []
    for link, part in zip(links, parts, strict=True):
        assert is_bucket_link(link["uploadUrl"], s3_server, bucket)
        query = parse_qs(urlsplit(link["uploadUrl"]).query)
        assert "content-md5" in query["X-Amz-SignedHeaders"][0].split(";")
        md5 = base64.b64encode(hashlib.md5(part).digest()).decode()
        answer = requests.put(
            link["uploadUrl"], data=part, headers={"Content-MD5": md5}, timeout=30
        )
        assert answer.status_code == 200
        etags.append(answer.headers["ETag"])
    # Not joined yet: the commit finds nothing.
    upload_manifest(client, alice_key, artifact_id, files)
    assert "files not uploaded yet: big.bin" in refused(commit(client, alice_key, artifact_id), 400)

    completed = ok(complete_in_parts(client, alice_key, artifact_id, node, etags))
    assert completed["completeMultipartUploadArtifact"]["digest"] == b64md5(files["big.bin"])
    ok(commit(client, alice_key, artifact_id))
    (stored,) = artifact_of(artifact_id).files.all()
    assert stored.size == len(files["big.bin"])
    listing = file_urls(client, alice_key, "v0")["artifactCollection"]["artifactMembership"]
    url = listing["files"]["edges"][0]["node"]["directUrl"]
    assert requests.get(url, timeout=30).content == files["big.bin"]


def test_parts_the_storage_refuses_are_a_clear_error(client, run, alice_key, s3_storage):
    parts = [b"small", b"tail"]  # a part but the last under 5 MiB: S3 refuses to join them
    files = {"big.bin": b"".join(parts)}
    artifact_id, answer = announce_in_parts(client, alice_key, files, parts)
    node = ok(answer)["createArtifactFiles"]["files"]["edges"][0]["node"]
    etags = [
        requests.put(link["uploadUrl"], data=part, timeout=10).headers["ETag"]
        for link, part in zip(node["uploadMultipartUrls"]["uploadUrlParts"], parts, strict=True)
    ]
    message = refused(complete_in_parts(client, alice_key, artifact_id, node, etags), 400)
    assert "big.bin: The storage refused the upload (EntityTooSmall)" in message
    ok(complete_in_parts(client, alice_key, artifact_id, node, [], action="Abort"))
    assert bucket_keys(s3_storage, "wandb_artifacts/") == []


def test_bad_part_lists_are_refused_and_nothing_is_created(client, run, alice_key, s3_storage):
    files = {"big.bin": b"abc"}
    artifact_id, answer = announce_in_parts(client, alice_key, files, [b"a", b"bc"])
    ok(answer)
    bad = [
        [{"partNumber": 2, "hexMD5": "0" * 32}],
        [{"partNumber": 1, "hexMD5": "0" * 32}, {"partNumber": 1, "hexMD5": "0" * 32}],
        [{"partNumber": 1, "hexMD5": "not-an-md5"}],
    ]
    before = ArtifactFile.objects.count()
    for parts in bad:
        variables = {
            "input": {
                "artifactFiles": [
                    {
                        "artifactID": artifact_id,
                        "name": "other.bin",
                        "md5": b64md5(b"x"),
                        "uploadPartsInput": parts,
                    }
                ],
                "storageLayout": "V2",
            }
        }
        refused(gql(client, alice_key, "CreateArtifactFiles", variables), 400)
    assert ArtifactFile.objects.count() == before


def test_on_local_disk_a_large_file_is_sent_whole(client, run, alice_key):
    parts = [b"a" * 10, b"b"]
    _, answer = announce_in_parts(client, alice_key, {"big.bin": b"".join(parts)}, parts)
    node = ok(answer)["createArtifactFiles"]["files"]["edges"][0]["node"]
    assert node["uploadMultipartUrls"] is None
    assert "/storage/" in node["uploadUrl"]


def test_a_link_through_the_site_from_before_the_bucket_still_stores_there(
    client, run, alice_key, settings, s3_server, s3_bucket
):
    # Links handed out while files were on local disk, used after the switch to the bucket.
    data = ok(create_run_files(client, alice_key, run, ["notes.txt"]))["createRunFiles"]
    run_file_url = data["files"][0]["uploadUrl"]
    _, nodes = announce(client, alice_key, {"model.bin": MODEL})
    assert "/storage/" in run_file_url and "/storage/" in nodes["model.bin"]["uploadUrl"]
    s3, bucket = s3_bucket
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage_settings(
            f"s3://{bucket}", endpoint_url=s3_server, region="us-east-1", url_max_age=60
        ),
    }
    put = client.put(run_file_url, NOTES, content_type="application/octet-stream")
    assert put.status_code == 200
    assert RunFile.objects.get(name="notes.txt").size == len(NOTES)
    put = client.put(
        nodes["model.bin"]["uploadUrl"], MODEL, content_type="application/octet-stream"
    )
    assert put.status_code == 200
    keys = bucket_keys((s3, bucket))
    assert f"runs/{run.pk}/notes.txt" in keys
    assert any(key.startswith("wandb_artifacts/") for key in keys)
