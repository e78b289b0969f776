"""Artifacts through the wandb client's protocol, in the order run.log_artifact() sends it:
CreateArtifact, CreateArtifactManifest, CreateArtifactFiles, PUT each file, the manifest's
upload link, PUT the manifest, CommitArtifact; then api.artifact(...).download()'s reads."""

import base64
import hashlib
import json
from pathlib import Path

import pytest

from artifacts.models import Artifact, ArtifactAlias, ArtifactFile
from projects.services import project_create
from runs.models import Run
from tests.factories import api_key_for

from .test_graphql import gql, node_id, ok, refused

pytestmark = pytest.mark.django_db

MODEL = b"\x00\x01weights" * 512
NOTES = b"trained for 5 epochs\n"
CLIENT_ID = (
    "a15oj4zdlpywgguffdfq01yu9aot68c8cms5bjxir9l2jgsvtpedj4pfi4in2visypt413ueiwweuxswvj4sz8c1y8kt"
)


def b64md5(content: bytes) -> str:
    return base64.b64encode(hashlib.md5(content).digest()).decode()


def digest_of(files: dict[str, bytes]) -> str:
    """A manifest digest: 32 hex characters that change with the files."""
    text = "".join(f"{name}:{b64md5(content)}\n" for name, content in sorted(files.items()))
    return hashlib.md5(text.encode()).hexdigest()


def manifest_of(files: dict[str, bytes], artifact_id: str) -> bytes:
    return json.dumps(
        {
            "version": 1,
            "storagePolicy": "wandb-storage-policy-v1",
            "storagePolicyConfig": {"storageLayout": "V2"},
            "contents": {
                name: {
                    "digest": b64md5(content),
                    "size": len(content),
                    "birthArtifactID": artifact_id,
                    "skip_cache": False,
                }
                for name, content in files.items()
            },
        }
    ).encode()


@pytest.fixture
def run(team, alice):
    demo = project_create(entity=team, name="demo", creator=alice)
    return Run.objects.create(project=demo, author=alice, run_id="iehvayav")


def create_artifact(client, key, *, files=None, digest=None, run="iehvayav", **changes):
    """CreateArtifact with the recorded input; `changes` replace its fields."""
    digest = digest or digest_of(files or {"model.bin": MODEL})
    variables = {
        "input": {
            "aliases": [
                {"alias": "best", "artifactCollectionName": "mymodel"},
                {"alias": "latest", "artifactCollectionName": "mymodel"},
            ],
            "artifactCollectionName": "mymodel",
            "artifactCollectionNames": None,
            "artifactTypeName": "model",
            "clientID": CLIENT_ID,
            "clientMutationId": None,
            "description": "a model",
            "digest": digest,
            "digestAlgorithm": "MANIFEST_MD5",
            "distributedID": None,
            "enableDigestDeduplication": True,
            "entityName": "example-team",
            "historyStep": 50,
            "labels": None,
            "metadata": '{"acc":0.9}',
            "projectName": "demo",
            "runName": run,
            "sequenceClientID": CLIENT_ID[::-1],
            "storageRegion": None,
            "ttlDurationSeconds": None,
            **changes,
        }
    }
    return gql(client, key, "CreateArtifact", variables)


def create_manifest(client, key, artifact_id, *, include_upload, digest=""):
    variables = {
        "artifactID": artifact_id,
        "baseArtifactID": None,
        "name": "wandb_manifest.json",
        "digest": digest,
        "entityName": "example-team",
        "projectName": "demo",
        "runName": "iehvayav",
        "manifestType": "FULL",
        "includeUpload": include_upload,
    }
    return gql(client, key, "CreateArtifactManifest", variables)


def create_files(client, key, artifact_id, manifest_id, files: dict[str, bytes], md5s=None):
    specs = [
        {
            "artifactID": artifact_id,
            "artifactManifestID": manifest_id,
            "md5": (md5s or {}).get(name, b64md5(content)),
            "mimetype": None,
            "name": name,
            "uploadPartsInput": None,
        }
        for name, content in files.items()
    ]
    variables = {
        "input": {
            "artifactFiles": specs,
            "clientMutationId": None,
            "cloudRegionID": None,
            "storageLayout": "V2",
        }
    }
    return gql(client, key, "CreateArtifactFiles", variables)


def commit(client, key, artifact_id):
    return gql(client, key, "CommitArtifact", {"artifactID": artifact_id})


def put(client, url, content: bytes):
    return client.put(url, content, content_type="application/octet-stream")


def read(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def upload_manifest(client, key, artifact_id, files: dict[str, bytes]):
    upload = ok(create_manifest(client, key, artifact_id, include_upload=True))
    url = upload["createArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"]
    assert put(client, url, manifest_of(files, artifact_id)).status_code == 200
    return url


def log_artifact(client, key, files: dict[str, bytes], **changes):
    """The whole of run.log_artifact(); returns the artifact's id and each upload link."""
    created = ok(create_artifact(client, key, files=files, **changes))["createArtifact"]
    artifact_id = created["artifact"]["id"]
    if created["artifact"]["state"] == "COMMITTED":
        return artifact_id, {}
    manifest = ok(create_manifest(client, key, artifact_id, include_upload=False))
    manifest_id = manifest["createArtifactManifest"]["artifactManifest"]["id"]
    edges = ok(create_files(client, key, artifact_id, manifest_id, files))["createArtifactFiles"][
        "files"
    ]["edges"]
    links = {name: edge["node"]["uploadUrl"] for name, edge in zip(files, edges, strict=True)}
    for name, url in links.items():
        if url is not None:
            assert put(client, url, files[name]).status_code == 200
    digest = digest_of(files)
    upload = ok(create_manifest(client, key, artifact_id, include_upload=True, digest=digest))
    manifest_url = upload["createArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"]
    assert put(client, manifest_url, manifest_of(files, artifact_id)).status_code == 200
    ok(commit(client, key, artifact_id))
    return artifact_id, links


def membership(client, key, name, include_aliases=False):
    variables = {"entity": "example-team", "name": name, "project": "demo"}
    if include_aliases:
        variables["includeAliases"] = True
    return ok(gql(client, key, "ArtifactMembershipByName", variables))["project"]


def file_urls(client, key, alias, collection="mymodel"):
    variables = {
        "alias": alias,
        "collection": collection,
        "cursor": None,
        "entity": "example-team",
        "perPage": 5000,
        "project": "demo",
    }
    return ok(gql(client, key, "GetArtifactMembershipFileUrls", variables))["project"]


def artifact_of(artifact_id) -> Artifact:
    return Artifact.objects.get(pk=int(base64.b64decode(artifact_id).decode().split(":")[1]))


def blobs(settings, entity):
    root = Path(settings.MEDIA_ROOT) / "wandb_artifacts" / str(entity.pk)
    return sorted(path.name for path in root.rglob("*") if path.is_file())


def test_the_whole_log_artifact_flow(client, run, alice_key):
    artifact_type = {"entity": "example-team", "name": "mymodel:latest", "project": "demo"}
    assert ok(gql(client, alice_key, "ArtifactType", artifact_type)) == {
        "project": {"artifact": None}
    }

    created = ok(create_artifact(client, alice_key))["createArtifact"]["artifact"]
    artifact_id = created["id"]
    assert created == {
        "id": artifact_id,
        "state": "PENDING",
        "artifactSequence": {"latestArtifact": None},
    }

    manifest = ok(create_manifest(client, alice_key, artifact_id, include_upload=False))
    manifest = manifest["createArtifactManifest"]["artifactManifest"]
    assert set(manifest) == {"id", "file"}
    assert set(manifest["file"]) == {"id"}  # no upload link unless asked

    files = ok(create_files(client, alice_key, artifact_id, manifest["id"], {"model.bin": MODEL}))
    [edge] = files["createArtifactFiles"]["files"]["edges"]
    node = edge["node"]
    assert node["uploadUrl"].startswith("http://testserver/storage/")
    assert node["uploadUrl"].endswith("/model.bin")
    assert node["uploadHeaders"] == []
    assert node["uploadMultipartUrls"] is None
    assert node["artifact"] == {"id": artifact_id}
    assert node["storagePath"]

    assert put(client, node["uploadUrl"], MODEL).status_code == 200

    digest = digest_of({"model.bin": MODEL})
    upload = ok(create_manifest(client, alice_key, artifact_id, include_upload=True, digest=digest))
    manifest_file = upload["createArtifactManifest"]["artifactManifest"]["file"]
    assert manifest_file["uploadHeaders"] == []
    manifest_bytes = manifest_of({"model.bin": MODEL}, artifact_id)
    assert put(client, manifest_file["uploadUrl"], manifest_bytes).status_code == 200

    committed = ok(commit(client, alice_key, artifact_id))
    assert committed == {"commitArtifact": {"artifact": {"id": artifact_id, "digest": digest}}}

    artifact = artifact_of(artifact_id)
    assert artifact.state == Artifact.State.COMMITTED
    assert (artifact.version_index, artifact.size, artifact.file_count) == (0, len(MODEL), 1)
    assert artifact.created_by_run == run
    assert (artifact.metadata, artifact.history_step) == ({"acc": 0.9}, 50)
    assert sorted(artifact.aliases.values_list("alias", flat=True)) == ["best", "latest"]
    assert ok(gql(client, alice_key, "ArtifactType", artifact_type)) == {
        "project": {"artifact": {"artifactType": {"name": "model"}}}
    }


def test_a_logged_artifact_is_read_back_by_alias_and_version(client, run, alice_key):
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL})

    by_latest = membership(client, alice_key, "mymodel:latest")
    assert membership(client, alice_key, "mymodel:best") == by_latest
    assert membership(client, alice_key, "mymodel:v0") == by_latest
    assert membership(client, alice_key, "mymodel") == by_latest
    found = by_latest["artifactCollectionMembership"]
    project = {
        "id": node_id("Project", run.project_id),
        "internalId": str(run.project_id),
        "name": "demo",
        "entity": {"name": "example-team"},
    }
    assert found["__typename"] == "ArtifactCollectionMembership"
    assert found["versionIndex"] == 0
    assert sorted(alias["alias"] for alias in found["aliases"]) == ["best", "latest"]
    assert all(alias["__typename"] == "ArtifactAlias" for alias in found["aliases"])
    assert found["artifactCollection"] == {
        "__typename": "ArtifactSequence",
        "name": "mymodel",
        "project": project,
    }
    artifact = found["artifact"]
    assert "aliases" not in artifact  # only with includeAliases
    assert {key: artifact[key] for key in artifact if key not in ("createdAt", "updatedAt")} == {
        "__typename": "Artifact",
        "id": artifact_id,
        "artifactSequence": {
            "__typename": "ArtifactSequence",
            "name": "mymodel",
            "project": project,
        },
        "versionIndex": 0,
        "artifactType": {"name": "model"},
        "description": "a model",
        "metadata": '{"acc": 0.9}',
        "ttlDurationSeconds": -2,
        "ttlIsInherited": True,
        "tags": [],
        "historyStep": 50,
        "state": "COMMITTED",
        "size": len(MODEL),
        "digest": digest_of({"model.bin": MODEL}),
        "commitHash": artifact["commitHash"],
        "fileCount": 1,
    }
    assert len(artifact["commitHash"]) == 12  # committed: a hash of its own
    with_aliases = membership(client, alice_key, "mymodel:v0", include_aliases=True)
    aliases = with_aliases["artifactCollectionMembership"]["artifact"]["aliases"]
    assert sorted(alias["alias"] for alias in aliases) == ["best", "latest"]
    assert aliases[0]["artifactCollection"]["name"] == "mymodel"
    assert membership(client, alice_key, "mymodel:v1") == {"artifactCollectionMembership": None}
    assert membership(client, alice_key, "other:latest") == {"artifactCollectionMembership": None}


def test_a_logged_artifact_downloads(client, run, alice_key):
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL, "notes.txt": NOTES})

    manifest = ok(gql(client, alice_key, "FetchArtifactManifest", {"id": artifact_id}))
    manifest_url = manifest["artifact"]["currentManifest"]["file"]["directUrl"]
    downloaded = json.loads(read(client.get(manifest_url)))  # no credentials
    assert downloaded == json.loads(
        manifest_of({"model.bin": MODEL, "notes.txt": NOTES}, artifact_id)
    )

    listing = file_urls(client, alice_key, "v0")["artifactCollection"]
    assert listing["__typename"] == "ArtifactSequence"
    files = listing["artifactMembership"]["files"]
    assert files["pageInfo"] == {
        "__typename": "PageInfo",
        "endCursor": "notes.txt",
        "hasNextPage": False,
    }
    nodes = {edge["node"]["name"]: edge["node"] for edge in files["edges"]}
    assert list(nodes) == ["model.bin", "notes.txt"]
    assert all(node["__typename"] == "File" for node in nodes.values())
    assert read(client.get(nodes["model.bin"]["directUrl"])) == MODEL
    assert read(client.get(nodes["notes.txt"]["directUrl"])) == NOTES
    # Download links are not upload links.
    assert client.put(nodes["model.bin"]["directUrl"], b"x", content_type="x/y").status_code == 405


def test_a_second_version_stores_a_repeated_file_once(client, run, alice_key, settings, team):
    log_artifact(client, alice_key, {"model.bin": MODEL})
    v1_files = {"model.bin": MODEL, "notes.txt": NOTES}

    created = ok(create_artifact(client, alice_key, files=v1_files, aliases=[]))
    v1_id = created["createArtifact"]["artifact"]["id"]
    # The collection's latest committed version is still v0.
    latest = created["createArtifact"]["artifact"]["artifactSequence"]["latestArtifact"]
    assert latest["id"] != v1_id
    manifest_id = ok(create_manifest(client, alice_key, v1_id, include_upload=False))[
        "createArtifactManifest"
    ]["artifactManifest"]["id"]
    edges = ok(create_files(client, alice_key, v1_id, manifest_id, v1_files))[
        "createArtifactFiles"
    ]["files"]["edges"]

    assert edges[0]["node"]["uploadUrl"] is None  # the same bytes are stored already
    assert edges[1]["node"]["uploadUrl"] is not None
    assert put(client, edges[1]["node"]["uploadUrl"], NOTES).status_code == 200
    upload_manifest(client, alice_key, v1_id, v1_files)
    ok(commit(client, alice_key, v1_id))

    assert blobs(settings, team) == sorted(
        [hashlib.md5(MODEL).hexdigest(), hashlib.md5(NOTES).hexdigest()]
    )
    assert ArtifactFile.objects.filter(md5=b64md5(MODEL)).count() == 2
    assert (
        membership(client, alice_key, "mymodel:latest")["artifactCollectionMembership"][
            "versionIndex"
        ]
        == 1
    )
    # best was asked for v0 only.
    assert (
        membership(client, alice_key, "mymodel:best")["artifactCollectionMembership"][
            "versionIndex"
        ]
        == 0
    )
    files = file_urls(client, alice_key, "latest")["artifactCollection"]["artifactMembership"]
    nodes = {edge["node"]["name"]: edge["node"] for edge in files["files"]["edges"]}
    assert read(client.get(nodes["model.bin"]["directUrl"])) == MODEL
    assert read(client.get(nodes["notes.txt"]["directUrl"])) == NOTES


def test_the_same_digest_as_a_committed_version_is_that_version(client, run, alice_key):
    v0_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL})

    again = ok(
        create_artifact(
            client, alice_key, aliases=[{"alias": "prod", "artifactCollectionName": "mymodel"}]
        )
    )

    assert again["createArtifact"]["artifact"]["id"] == v0_id
    assert again["createArtifact"]["artifact"]["state"] == "COMMITTED"
    assert Artifact.objects.count() == 1
    # Aliases asked for with it move at once.
    assert membership(client, alice_key, "mymodel:prod")["artifactCollectionMembership"]["id"]

    fresh = ok(create_artifact(client, alice_key, enableDigestDeduplication=False))
    assert fresh["createArtifact"]["artifact"]["state"] == "PENDING"
    assert artifact_of(fresh["createArtifact"]["artifact"]["id"]).version_index == 1


def test_an_upload_that_does_not_match_its_md5_is_refused_and_not_kept(
    client, run, alice_key, settings, team
):
    artifact_id = ok(create_artifact(client, alice_key))["createArtifact"]["artifact"]["id"]
    edges = ok(create_files(client, alice_key, artifact_id, None, {"model.bin": MODEL}))[
        "createArtifactFiles"
    ]["files"]["edges"]
    url = edges[0]["node"]["uploadUrl"]

    message = refused(put(client, url, MODEL + b"corrupted"), 400)

    assert "MD5" in message
    assert blobs(settings, team) == []
    assert ArtifactFile.objects.get().size is None
    assert "not uploaded" in refused(commit(client, alice_key, artifact_id), 400)
    # The right bytes then go through.
    assert put(client, url, MODEL).status_code == 200
    upload_manifest(client, alice_key, artifact_id, {"model.bin": MODEL})
    ok(commit(client, alice_key, artifact_id))
    assert blobs(settings, team) == [hashlib.md5(MODEL).hexdigest()]


def test_a_wrong_upload_of_a_stored_blob_keeps_the_blob(client, run, alice_key, settings, team):
    # Two pending versions announce the same file before either uploads it: both get a link.
    links = []
    for digest in ("a" * 32, "b" * 32):
        created = ok(create_artifact(client, alice_key, digest=digest))["createArtifact"]
        edges = ok(
            create_files(client, alice_key, created["artifact"]["id"], None, {"model.bin": MODEL})
        )["createArtifactFiles"]["files"]["edges"]
        links.append(edges[0]["node"]["uploadUrl"])
    assert None not in links
    assert put(client, links[0], MODEL).status_code == 200

    refused(put(client, links[1], b"garbage"), 400)

    blob = Path(settings.MEDIA_ROOT) / "wandb_artifacts" / str(team.pk)
    [stored] = [path for path in blob.rglob("*") if path.is_file()]
    assert stored.read_bytes() == MODEL
    assert set(ArtifactFile.objects.values_list("size", flat=True)) == {len(MODEL)}
    # The right bytes again are accepted without storing a second copy.
    assert put(client, links[1], MODEL).status_code == 200
    assert blobs(settings, team) == [hashlib.md5(MODEL).hexdigest()]


def test_commit_before_the_files_are_uploaded_is_refused(client, run, alice_key):
    artifact_id = ok(create_artifact(client, alice_key))["createArtifact"]["artifact"]["id"]
    ok(create_files(client, alice_key, artifact_id, None, {"model.bin": MODEL}))

    message = refused(commit(client, alice_key, artifact_id), 400)

    assert "model.bin" in message
    assert artifact_of(artifact_id).state == Artifact.State.PENDING
    assert not ArtifactAlias.objects.exists()
    assert membership(client, alice_key, "mymodel:latest") == {"artifactCollectionMembership": None}


def test_a_version_of_another_type_is_refused(client, run, alice_key):
    log_artifact(client, alice_key, {"model.bin": MODEL})

    message = refused(
        create_artifact(client, alice_key, artifactTypeName="dataset", digest="0" * 32), 400
    )

    assert "model" in message and "dataset" in message
    assert Artifact.objects.count() == 1


def test_a_committed_version_keeps_its_files(client, run, alice_key):
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL})

    response = create_files(client, alice_key, artifact_id, None, {"extra.txt": NOTES})

    assert "committed" in refused(response, 400)
    assert ArtifactFile.objects.count() == 1
    # Committing again is harmless.
    assert ok(commit(client, alice_key, artifact_id))["commitArtifact"]["artifact"]["id"]


def test_a_version_is_committed_only_with_its_manifest(client, run, alice_key):
    files = {"model.bin": MODEL}
    artifact_id = ok(create_artifact(client, alice_key))["createArtifact"]["artifact"]["id"]
    edges = ok(create_files(client, alice_key, artifact_id, None, files))["createArtifactFiles"][
        "files"
    ]["edges"]
    put(client, edges[0]["node"]["uploadUrl"], MODEL)

    assert "manifest" in refused(commit(client, alice_key, artifact_id), 400)
    assert artifact_of(artifact_id).state == Artifact.State.PENDING

    upload_manifest(client, alice_key, artifact_id, files)
    ok(commit(client, alice_key, artifact_id))
    artifact = artifact_of(artifact_id)
    assert (artifact.state, artifact.size, artifact.file_count) == ("COMMITTED", len(MODEL), 1)


def forged_manifest(artifact_id) -> bytes:
    """A manifest pointing the model at bytes outside the version."""
    manifest = json.loads(manifest_of({"model.bin": MODEL}, artifact_id))
    manifest["contents"]["model.bin"]["ref"] = "https://attacker.example/model.bin"
    return json.dumps(manifest).encode()


def manifest_bytes(client, key, artifact_id):
    data = ok(gql(client, key, "FetchArtifactManifest", {"id": artifact_id}))
    return read(client.get(data["artifact"]["currentManifest"]["file"]["directUrl"]))


UPDATE_MANIFEST = """
mutation UpdateArtifactManifest($artifactManifestID: ID!, $digest: String, $baseArtifactID: ID) {
  updateArtifactManifest(input: {artifactManifestID: $artifactManifestID, digest: $digest,
                                 baseArtifactID: $baseArtifactID}) {
    artifactManifest { id file { id uploadUrl } }
  }
}
"""


@pytest.mark.parametrize("key_of", ["alice", "bob"])
def test_a_committed_versions_manifest_is_immutable_for_everyone(
    client, run, alice_key, bob_key, key_of
):
    key = {"alice": alice_key, "bob": bob_key}[key_of]
    # The upload link of the version's own author, kept from before the commit.
    artifact_id = ok(create_artifact(client, alice_key))["createArtifact"]["artifact"]["id"]
    edges = ok(create_files(client, alice_key, artifact_id, None, {"model.bin": MODEL}))[
        "createArtifactFiles"
    ]["files"]["edges"]
    put(client, edges[0]["node"]["uploadUrl"], MODEL)
    old_link = upload_manifest(client, alice_key, artifact_id, {"model.bin": MODEL})
    ok(commit(client, alice_key, artifact_id))
    before = manifest_bytes(client, alice_key, artifact_id)
    manifest_id = node_id("ArtifactManifest", artifact_of(artifact_id).pk)

    create = create_manifest(client, key, artifact_id, include_upload=True)
    update = gql(
        client,
        key,
        None,
        {"artifactManifestID": manifest_id, "digest": "x", "baseArtifactID": None},
        query=UPDATE_MANIFEST,
    )

    for response in (create, update):
        assert response.status_code in (400, 403)
        assert response.json()["errors"]
    assert "committed" in refused(put(client, old_link, forged_manifest(artifact_id)), 400)
    assert "committed" in refused(put(client, edges[0]["node"]["uploadUrl"], MODEL), 400)
    assert manifest_bytes(client, alice_key, artifact_id) == before
    assert artifact_of(artifact_id).state == Artifact.State.COMMITTED


def test_a_pending_version_changes_only_through_whoever_may_change_its_run(
    client, run, alice_key, bob_key
):
    artifact_id = ok(create_artifact(client, alice_key))["createArtifact"]["artifact"]["id"]

    for response in (
        create_manifest(client, bob_key, artifact_id, include_upload=True),
        create_files(client, bob_key, artifact_id, None, {"model.bin": MODEL}),
        commit(client, bob_key, artifact_id),
    ):
        assert "change" in refused(response, 403)
    assert not ArtifactFile.objects.exists()
    # alice, the run's author, goes on.
    assert ok(create_manifest(client, alice_key, artifact_id, include_upload=True))


def test_a_manifest_that_is_not_one_is_refused(client, run, alice_key):
    artifact_id = ok(create_artifact(client, alice_key))["createArtifact"]["artifact"]["id"]
    upload = ok(create_manifest(client, alice_key, artifact_id, include_upload=True))
    url = upload["createArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"]

    for body in (b"not json", b"[]", b'{"contents": []}', b'{"contents": {"a": {"size": "x"}}}'):
        assert "manifest" in refused(put(client, url, body), 400)

    assert artifact_of(artifact_id).manifest_storage_name == ""


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"artifactCollectionName": "bad name!"}, "not a valid artifact name"),
        ({"aliases": [{"alias": "v3", "artifactCollectionName": "mymodel"}]}, "alias"),
        ({"aliases": [{"alias": "no spaces", "artifactCollectionName": "mymodel"}]}, "alias"),
        ({"metadata": "[1]"}, "metadata"),
        ({"metadata": "{nope"}, "metadata"),
        ({"artifactTypeName": ""}, "type"),
    ],
)
def test_create_artifact_refuses_bad_input(client, run, alice_key, changes, fragment):
    assert fragment in refused(create_artifact(client, alice_key, **changes), 400)
    assert not Artifact.objects.exists()


def test_bad_file_announcements_are_refused(client, run, alice_key):
    artifact_id = ok(create_artifact(client, alice_key))["createArtifact"]["artifact"]["id"]

    bad_md5 = create_files(client, alice_key, artifact_id, None, {"a": b""}, md5s={"a": "nope"})
    bad_name = create_files(client, alice_key, artifact_id, None, {"../a": b""})

    assert "MD5" in refused(bad_md5, 400)
    assert "file name" in refused(bad_name, 400)
    assert not ArtifactFile.objects.exists()


def test_use_artifact_records_the_run(client, run, alice_key, bob, bob_key):
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL})
    bobs = Run.objects.create(project=run.project, author=bob, run_id="bobs")
    variables = {
        "input": {
            "entityName": "example-team",
            "projectName": "demo",
            "runName": "bobs",
            "artifactID": artifact_id,
        }
    }

    data = ok(gql(client, bob_key, "UseArtifact", variables))

    assert data == {"useArtifact": {"artifact": {"id": artifact_id}}}
    assert list(artifact_of(artifact_id).used_by.all()) == [bobs]
    # bob cannot declare inputs of alice's run.
    variables["input"]["runName"] = "iehvayav"
    refused(gql(client, bob_key, "UseArtifact", variables), 403)
    assert list(artifact_of(artifact_id).used_by.all()) == [bobs]


def test_an_outsider_cannot_read_or_touch_a_private_teams_artifacts(
    client, run, alice_key, charlie, charlie_key
):
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL})
    artifact_type = {"entity": "example-team", "name": "mymodel:latest", "project": "demo"}

    assert membership(client, charlie_key, "mymodel:latest") is None
    assert file_urls(client, charlie_key, "v0") is None
    assert ok(gql(client, charlie_key, "ArtifactType", artifact_type)) == {"project": None}
    assert ok(gql(client, charlie_key, "FetchArtifactManifest", {"id": artifact_id})) == {
        "artifact": None
    }
    refused(commit(client, charlie_key, artifact_id), 404)
    refused(create_files(client, charlie_key, artifact_id, None, {"x": NOTES}), 404)
    refused(create_manifest(client, charlie_key, artifact_id, include_upload=True), 404)
    refused(create_artifact(client, charlie_key, digest="e" * 32), 403)
    charlies = Run.objects.create(
        project=project_create(entity=charlie.personal_entity, name="demo", creator=charlie),
        author=charlie,
        run_id="mine",
    )
    use = {
        "input": {
            "entityName": "charlie",
            "projectName": "demo",
            "runName": charlies.run_id,
            "artifactID": artifact_id,
        }
    }
    refused(gql(client, charlie_key, "UseArtifact", use), 404)
    assert not artifact_of(artifact_id).used_by.exists()


def test_stored_bytes_are_not_shared_with_another_entity(client, run, alice_key, charlie, settings):
    log_artifact(client, alice_key, {"model.bin": MODEL})
    project_create(entity=charlie.personal_entity, name="demo", creator=charlie)
    charlie_key = api_key_for(charlie)

    created = ok(create_artifact(client, charlie_key, entityName="charlie", run=None))
    artifact_id = created["createArtifact"]["artifact"]["id"]
    edges = ok(create_files(client, charlie_key, artifact_id, None, {"model.bin": MODEL}))[
        "createArtifactFiles"
    ]["files"]["edges"]

    # Knowing a file's MD5 is not enough to get another team's bytes: charlie must upload.
    assert edges[0]["node"]["uploadUrl"] is not None
    assert "not uploaded" in refused(commit(client, charlie_key, artifact_id), 400)
    assert blobs(settings, charlie.personal_entity) == []


def test_a_service_account_and_members_log_artifacts(client, run, bob_key, sam_and_key):
    bob_id, _ = log_artifact(client, bob_key, {"model.bin": MODEL}, run=None)
    sam_id, _ = log_artifact(
        client, sam_and_key[1], {"model.bin": MODEL, "notes.txt": NOTES}, run=None
    )

    assert artifact_of(bob_id).state == artifact_of(sam_id).state == Artifact.State.COMMITTED
    assert artifact_of(sam_id).version_index == 1
    # With a run named, only someone who may change the run logs to it.
    refused(create_artifact(client, bob_key, digest="d" * 32), 404)


def test_a_draft_of_a_version_keeps_its_parents_files_without_uploading_them(
    client, run, alice_key
):
    """`parent.new_draft()` adds a file and logs: its manifest lists the parent's files, which
    the client does not upload again."""
    log_artifact(client, alice_key, {"model.bin": MODEL})
    files = {"model.bin": MODEL, "notes.txt": NOTES}
    created = ok(create_artifact(client, alice_key, files=files))["createArtifact"]["artifact"]
    manifest = ok(create_manifest(client, alice_key, created["id"], include_upload=False))
    manifest_id = manifest["createArtifactManifest"]["artifactManifest"]["id"]
    [edge] = ok(create_files(client, alice_key, created["id"], manifest_id, {"notes.txt": NOTES}))[
        "createArtifactFiles"
    ]["files"]["edges"]
    assert put(client, edge["node"]["uploadUrl"], NOTES).status_code == 200
    upload_manifest(client, alice_key, created["id"], files)
    ok(commit(client, alice_key, created["id"]))

    draft = artifact_of(created["id"])
    assert (draft.version_index, draft.file_count) == (1, 2)
    kept = draft.files.get(name="model.bin")
    assert kept.size == len(MODEL)
    assert kept.storage_name == Artifact.objects.get(version_index=0).files.get().storage_name
    files = file_urls(client, alice_key, "v1")["artifactCollection"]["artifactMembership"]
    nodes = {edge["node"]["name"]: edge["node"] for edge in files["files"]["edges"]}
    assert read(client.get(nodes["model.bin"]["directUrl"])) == MODEL


def test_a_manifest_naming_bytes_the_entity_lacks_adopts_nothing(client, run, alice_key):
    files = {"model.bin": MODEL}
    created = ok(create_artifact(client, alice_key, files=files))["createArtifact"]["artifact"]

    upload_manifest(client, alice_key, created["id"], files)

    assert not artifact_of(created["id"]).files.exists()
