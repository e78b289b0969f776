"""Changing logged versions as the wandb client does (artifact.save() after logging,
artifact.delete()), lineage between versions and runs, files by name, the V2 download path,
incremental manifests and storage regions."""

import json

import pytest
from django.core.files.storage import default_storage

from artifacts.models import Artifact, ArtifactAlias, ArtifactFile, ArtifactTag
from projects.services import project_create
from runs.models import Run

from .test_artifacts_api import (
    MODEL,
    NOTES,
    b64md5,
    create_artifact,
    create_files,
    create_manifest,
    digest_of,
    log_artifact,
    manifest_of,
    put,
    read,
)
from .test_file_stream import basic
from .test_graphql import gql, node_id, ok, refused

pytestmark = pytest.mark.django_db

ARTIFACT = """
query Artifact($id: ID!) {
  artifact(id: $id) {
    id description metadata commitHash state
    tags { id name }
    aliases { alias }
    createdBy { __typename ... on Run { name project { name entity { name } } } }
    usedBy { edges { node { name project { name } } } }
  }
}
"""
UPDATE = """
mutation UpdateArtifact($input: UpdateArtifactInput!) {
  result: updateArtifact(input: $input) { artifact { id description metadata tags { name } } }
}
"""
ADD_ALIASES = """
mutation AddAliases($input: AddAliasesInput!) { result: addAliases(input: $input) { success } }
"""
DELETE_ALIASES = """
mutation DeleteAliases($input: DeleteAliasesInput!) {
  result: deleteAliases(input: $input) { success }
}
"""
DELETE = """
mutation DeleteArtifact($input: DeleteArtifactInput!) {
  result: deleteArtifact(input: $input) { artifact { id } }
}
"""
RUN_ARTIFACTS = """
query RunArtifacts($run: String!, $cursor: String, $perPage: Int) {
  project(entityName: "example-team", name: "demo") {
    run(name: $run) {
      output: outputArtifacts(after: $cursor, first: $perPage) {
        totalCount
        pageInfo { endCursor hasNextPage }
        edges { node { id versionIndex tags { name } aliases { alias } } }
      }
      input: inputArtifacts(after: $cursor, first: $perPage) {
        totalCount
        edges { node { id versionIndex } }
      }
    }
  }
}
"""
FILES = """
query Files($alias: String!, $names: [String!]) {
  project(entityName: "example-team", name: "demo") {
    artifactCollection(name: "mymodel") {
      artifactMembership(aliasName: $alias) {
        files(names: $names, first: 10) {
          totalCount
          edges { node { name: displayName digest md5 directUrl storagePath } }
        }
      }
    }
  }
}
"""
VERSIONS = """
query Versions($order: String) {
  project(entityName: "example-team", name: "demo") {
    artifactType(name: "model") {
      artifactCollection(name: "mymodel") {
        artifacts(order: $order, first: 10) { edges { version } }
      }
    }
  }
}
"""


@pytest.fixture
def run(team, alice):
    demo = project_create(entity=team, name="demo", creator=alice)
    return Run.objects.create(project=demo, author=alice, run_id="iehvayav")


USE = """
mutation UseArtifact($input: UseArtifactInput!) { useArtifact(input: $input) { artifact { id } } }
"""


def read_artifact(client, key, artifact_id):
    return ok(gql(client, key, "Artifact", {"id": artifact_id}, query=ARTIFACT))["artifact"]


def update(client, key, artifact_id, **fields):
    return gql(
        client,
        key,
        "UpdateArtifact",
        {"input": {"artifactID": artifact_id, **fields}},
        query=UPDATE,
    )


def alias_inputs(*aliases, collection="mymodel"):
    return [
        {
            "alias": alias,
            "artifactCollectionName": collection,
            "entityName": "example-team",
            "projectName": "demo",
        }
        for alias in aliases
    ]


def tag_names(artifact) -> list[str]:
    return sorted(tag["name"] for tag in artifact["tags"])


def test_tags_logged_with_a_version_are_kept_and_edited(client, run, alice_key, bob_key):
    tags = [{"tagName": "baseline"}, {"tagName": "orig TAG 1"}, {"tagName": "baseline"}]
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL}, tags=tags)
    assert tag_names(read_artifact(client, alice_key, artifact_id)) == ["baseline", "orig TAG 1"]

    # bob is a member: he may change what alice logged, as he may log to the project.
    answer = ok(
        update(
            client,
            bob_key,
            artifact_id,
            description="better",
            metadata=json.dumps({"acc": 0.95}),
            tagsToAdd=[{"tagName": "best-so-far"}],
            tagsToDelete=[{"tagName": "baseline"}],
        )
    )["result"]["artifact"]
    assert answer["description"] == "better"
    assert json.loads(answer["metadata"]) == {"acc": 0.95}
    assert tag_names(answer) == ["best-so-far", "orig TAG 1"]
    # Tags are rows: the versions with a tag are one query away.
    assert list(
        ArtifactTag.objects.filter(name="best-so-far").values_list("artifact", flat=True)
    ) == [Artifact.objects.get().pk]


@pytest.mark.parametrize("bad", ["!punctuation:here", "", " ", "trailing ", " leading", "x" * 129])
def test_invalid_tags_are_refused_and_change_nothing(client, run, alice_key, bad):
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL}, tags=[{"tagName": "a"}])
    message = refused(
        update(
            client,
            alice_key,
            artifact_id,
            description="changed",
            tagsToAdd=[{"tagName": "good"}, {"tagName": bad}],
        ),
        400,
    )
    assert "Invalid tag" in message
    artifact = Artifact.objects.get()
    assert artifact.description == "a model"
    assert list(artifact.tags.values_list("name", flat=True)) == ["a"]

    before = Artifact.objects.count()
    refused(
        create_artifact(client, alice_key, files={"other": NOTES}, tags=[{"tagName": bad}]), 400
    )
    assert Artifact.objects.count() == before


def test_outsiders_change_nothing_and_are_told_it_does_not_exist(
    client, run, alice_key, charlie_key
):
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL})
    attempts = [
        update(client, charlie_key, artifact_id, description="mine"),
        gql(
            client,
            charlie_key,
            "AddAliases",
            {"input": {"artifactID": artifact_id, "aliases": alias_inputs("x")}},
            query=ADD_ALIASES,
        ),
        gql(
            client,
            charlie_key,
            "DeleteAliases",
            {"input": {"artifactID": artifact_id, "aliases": alias_inputs("best")}},
            query=DELETE_ALIASES,
        ),
        gql(
            client,
            charlie_key,
            "DeleteArtifact",
            {"input": {"artifactID": artifact_id, "deleteAliases": True}},
            query=DELETE,
        ),
    ]
    missing = update(client, charlie_key, node_id("Artifact", 999999), description="mine")
    for attempt in attempts:
        assert refused(attempt, 404) == refused(missing, 404) == "Artifact not found."
    artifact = Artifact.objects.get()
    assert artifact.description == "a model"
    assert sorted(artifact.aliases.values_list("alias", flat=True)) == ["best", "latest"]


def test_aliases_are_added_moved_and_removed(client, run, alice_key):
    first, _ = log_artifact(client, alice_key, {"model.bin": MODEL})
    second, _ = log_artifact(client, alice_key, {"model.bin": NOTES})
    add = {"input": {"artifactID": first, "aliases": alias_inputs("production", "best")}}
    assert ok(gql(client, alice_key, "AddAliases", add, query=ADD_ALIASES))["result"]["success"]
    assert sorted(a["alias"] for a in read_artifact(client, alice_key, first)["aliases"]) == [
        "best",
        "production",
    ]
    remove = {"input": {"artifactID": second, "aliases": alias_inputs("latest", "production")}}
    ok(gql(client, alice_key, "DeleteAliases", remove, query=DELETE_ALIASES))
    # Only the second version's own alias went; the first keeps "production".
    assert read_artifact(client, alice_key, second)["aliases"] == []
    assert ArtifactAlias.objects.filter(alias="production").count() == 1

    bad = [
        {"input": {"artifactID": first, "aliases": alias_inputs("v3")}},
        {"input": {"artifactID": first, "aliases": alias_inputs("ok", collection="other")}},
    ]
    for variables in bad:
        refused(gql(client, alice_key, "AddAliases", variables, query=ADD_ALIASES), 400)
    assert ArtifactAlias.objects.count() == 2


def test_a_version_with_aliases_is_deleted_only_with_them(
    client, run, alice_key, django_capture_on_commit_callbacks
):
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL, "notes.txt": NOTES})
    blob = ArtifactFile.objects.get(name="model.bin").storage_name
    variables = {"input": {"artifactID": artifact_id}}
    message = refused(gql(client, alice_key, "DeleteArtifact", variables, query=DELETE), 400)
    assert "has aliases (best, latest)" in message
    assert Artifact.objects.count() == 1

    variables["input"]["deleteAliases"] = True
    with django_capture_on_commit_callbacks(execute=True):
        with_aliases = gql(client, alice_key, "DeleteArtifact", variables, query=DELETE)
    assert ok(with_aliases)["result"]["artifact"]["id"] == artifact_id
    assert not Artifact.objects.exists() and not ArtifactAlias.objects.exists()
    assert not default_storage.exists(blob)  # no other version holds those bytes


def test_lineage_between_runs_and_versions(client, run, alice_key, django_assert_max_num_queries):
    Run.objects.create(project=run.project, author=run.author, run_id="consumer")
    logged = [
        log_artifact(
            client, alice_key, {"model.bin": bytes([i]) * 10}, tags=[{"tagName": f"t{i}"}]
        )[0]
        for i in range(3)
    ]
    for artifact_id in logged[:2]:
        use = {
            "entityName": "example-team",
            "projectName": "demo",
            "runName": "consumer",
            "artifactID": artifact_id,
        }
        ok(gql(client, alice_key, "UseArtifact", {"input": use}, query=USE))

    found = read_artifact(client, alice_key, logged[0])
    assert found["createdBy"] == {
        "__typename": "Run",
        "name": "iehvayav",
        "project": {"name": "demo", "entity": {"name": "example-team"}},
    }
    assert found["usedBy"]["edges"] == [{"node": {"name": "consumer", "project": {"name": "demo"}}}]

    page = ok(
        gql(
            client,
            alice_key,
            "RunArtifacts",
            {"run": "iehvayav", "perPage": 2},
            query=RUN_ARTIFACTS,
        )
    )
    output = page["project"]["run"]["output"]
    assert output["totalCount"] == 3 and output["pageInfo"]["hasNextPage"]
    assert [edge["node"]["id"] for edge in output["edges"]] == logged[:2]
    assert output["edges"][0]["node"]["tags"] == [{"name": "t0"}]
    rest = ok(
        gql(
            client,
            alice_key,
            "RunArtifacts",
            {"run": "iehvayav", "perPage": 2, "cursor": output["pageInfo"]["endCursor"]},
            query=RUN_ARTIFACTS,
        )
    )["project"]["run"]["output"]
    assert [edge["node"]["id"] for edge in rest["edges"]] == logged[2:]
    used = ok(gql(client, alice_key, "RunArtifacts", {"run": "consumer"}, query=RUN_ARTIFACTS))
    assert [edge["node"]["id"] for edge in used["project"]["run"]["input"]["edges"]] == logged[:2]

    # The same number of queries for a page of 3 versions as for a page of 6.
    with django_assert_max_num_queries(30) as small:
        ok(gql(client, alice_key, "RunArtifacts", {"run": "iehvayav"}, query=RUN_ARTIFACTS))
    queries = len(small.captured_queries)  # each request clears the connection's log
    for i in range(3, 6):
        log_artifact(client, alice_key, {"model.bin": bytes([i]) * 10}, tags=[{"tagName": f"t{i}"}])
    with django_assert_max_num_queries(queries):
        ok(gql(client, alice_key, "RunArtifacts", {"run": "iehvayav"}, query=RUN_ARTIFACTS))


def test_files_by_name_and_versions_in_either_order(client, run, alice_key):
    log_artifact(client, alice_key, {"model.bin": MODEL, "notes.txt": NOTES})
    log_artifact(client, alice_key, {"model.bin": NOTES})
    files = ok(
        gql(
            client, alice_key, "Files", {"alias": "v0", "names": ["notes.txt", "nope"]}, query=FILES
        )
    )
    connection = files["project"]["artifactCollection"]["artifactMembership"]["files"]
    assert connection["totalCount"] == 1
    node = connection["edges"][0]["node"]
    assert (node["name"], node["digest"], node["md5"]) == (
        "notes.txt",
        b64md5(NOTES),
        b64md5(NOTES),
    )
    assert read(client.get(node["directUrl"])) == NOTES
    assert node["storagePath"] == ArtifactFile.objects.get(name="notes.txt").storage_name

    def versions(order):
        answer = ok(gql(client, alice_key, "Versions", {"order": order}, query=VERSIONS))
        edges = answer["project"]["artifactType"]["artifactCollection"]["artifacts"]["edges"]
        return [edge["version"] for edge in edges]

    assert versions(None) == versions("-version_index") == ["v1", "v0"]
    assert versions("version_index") == versions("+version_index") == ["v0", "v1"]
    refused(gql(client, alice_key, "Versions", {"order": "size; drop"}, query=VERSIONS), 400)


def test_the_v2_download_path_follows_the_project_rules(client, run, alice_key, charlie_key):
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL})
    hexhash = ArtifactFile.objects.get().storage_name.rsplit("/", 1)[-1]
    ids = f"{artifact_id}/{artifact_id}"
    path = f"/artifactsV2/default/example-team/demo/mymodel/{ids}/{hexhash}/model.bin"
    assert read(client.get(path, headers=basic(alice_key))) == MODEL
    for key, bad_path in [
        (charlie_key, path),
        (alice_key, path.replace("/mymodel/", "/other/")),
        (alice_key, path.replace("/default/", "/coreweave-us/")),
        (alice_key, path.replace(hexhash, "0" * 32)),
    ]:
        assert client.get(bad_path, headers=basic(key)).status_code == 404
    assert client.get(path).status_code == 401  # the client sends its key: nothing else counts


def test_an_incremental_version_holds_its_base_files(client, run, alice_key):
    base_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL})
    created = ok(create_artifact(client, alice_key, files={"notes.txt": NOTES}))["createArtifact"]
    artifact_id = created["artifact"]["id"]
    manifest_query = """
    mutation M($input: CreateArtifactManifestInput!) {
      createArtifactManifest(input: $input) { artifactManifest { id file { uploadUrl } } }
    }"""
    variables = {
        "input": {
            "artifactID": artifact_id,
            "baseArtifactID": base_id,
            "name": "wandb_manifest.incremental.json",
            "digest": "",
            "entityName": "example-team",
            "projectName": "demo",
            "runName": "iehvayav",
            "type": "INCREMENTAL",
        }
    }
    answer = ok(gql(client, alice_key, "M", variables, query=manifest_query))
    manifest = answer["createArtifactManifest"]["artifactManifest"]
    edges = ok(create_files(client, alice_key, artifact_id, manifest["id"], {"notes.txt": NOTES}))
    url = edges["createArtifactFiles"]["files"]["edges"][0]["node"]["uploadUrl"]
    assert put(client, url, NOTES).status_code == 200
    assert (
        put(
            client, manifest["file"]["uploadUrl"], manifest_of({"notes.txt": NOTES}, artifact_id)
        ).status_code
        == 200
    )
    ok(gql(client, alice_key, "CommitArtifact", {"artifactID": artifact_id}))

    version = Artifact.objects.get(version_index=1)
    with default_storage.open(version.manifest_storage_name) as stored:
        assert sorted(json.load(stored)["contents"]) == ["model.bin", "notes.txt"]
    assert sorted(version.files.values_list("name", flat=True)) == ["model.bin", "notes.txt"]
    assert version.file_count == 2


def test_an_unknown_storage_region_is_refused(client, run, alice_key):
    message = refused(
        create_artifact(client, alice_key, files={"a": MODEL}, storageRegion="coreweave-us"), 400
    )
    assert "coreweave-us" in message
    assert not Artifact.objects.exists()
    ok(create_artifact(client, alice_key, files={"a": MODEL}, storageRegion="default"))
    assert digest_of({"a": MODEL})


def test_deleting_a_version_keeps_the_bytes_another_version_holds(
    client, run, alice_key, django_capture_on_commit_callbacks
):
    first, _ = log_artifact(client, alice_key, {"model.bin": MODEL, "notes.txt": NOTES})
    log_artifact(client, alice_key, {"model.bin": MODEL})  # v1 shares model.bin's bytes
    shared = ArtifactFile.objects.filter(name="model.bin").first().storage_name
    only_first = ArtifactFile.objects.get(name="notes.txt").storage_name
    variables = {"input": {"artifactID": first, "deleteAliases": True}}
    with django_capture_on_commit_callbacks(execute=True):
        ok(gql(client, alice_key, "DeleteArtifact", variables, query=DELETE))
    assert default_storage.exists(shared) and not default_storage.exists(only_first)
    assert read(client.get(file_url_of("latest", "model.bin", client, alice_key))) == MODEL


def file_url_of(alias, name, client, key):
    variables = {"alias": alias, "names": [name]}
    files = ok(gql(client, key, "Files", variables, query=FILES))["project"]
    return files["artifactCollection"]["artifactMembership"]["files"]["edges"][0]["node"][
        "directUrl"
    ]


def test_a_relogged_version_gains_the_new_tags(client, run, alice_key):
    first, _ = log_artifact(client, alice_key, {"model.bin": MODEL}, tags=[{"tagName": "a"}])
    again, _ = log_artifact(client, alice_key, {"model.bin": MODEL}, tags=[{"tagName": "b"}])
    assert again == first
    assert tag_names(read_artifact(client, alice_key, first)) == ["a", "b"]


def test_who_may_see_a_public_project_still_may_not_change_its_versions(
    client, public_team, alice, charlie_key
):
    from artifacts import services as artifact_services

    project = project_create(entity=public_team, name="open", creator=alice, visibility="public")
    artifact = artifact_services.artifact_create(
        project=project, run=None, type_name="model", name="m", digest="d" * 32
    )
    artifact_id = node_id("Artifact", artifact.pk)
    assert read_artifact(client, charlie_key, artifact_id)["id"] == artifact_id
    assert refused(update(client, charlie_key, artifact_id, description="x"), 404) == (
        "Artifact not found."
    )
    artifact.refresh_from_db()
    assert artifact.description == ""


def test_storage_regions_are_configured(client, run, alice_key, settings):
    settings.ARTIFACT_STORAGE_REGIONS = ["default", "on-prem"]
    ok(create_artifact(client, alice_key, files={"a": MODEL}, storageRegion="on-prem"))
    refused(create_artifact(client, alice_key, files={"b": MODEL}, storageRegion="default2"), 400)


def test_metadata_that_is_not_an_object_is_refused(client, run, alice_key):
    artifact_id, _ = log_artifact(client, alice_key, {"model.bin": MODEL})
    for metadata in ["[1, 2]", "{not json"]:
        refused(update(client, alice_key, artifact_id, metadata=metadata, description="x"), 400)
    artifact = Artifact.objects.get()
    assert (artifact.metadata, artifact.description) == ({"acc": 0.9}, "a model")


def test_references_are_listed_with_the_files(client, run, alice_key):
    files = {"model.bin": MODEL}
    created = ok(create_artifact(client, alice_key, files=files))["createArtifact"]
    artifact_id = created["artifact"]["id"]
    manifest = ok(create_manifest(client, alice_key, artifact_id, include_upload=True))
    manifest = manifest["createArtifactManifest"]["artifactManifest"]
    edges = ok(create_files(client, alice_key, artifact_id, manifest["id"], files))
    upload = edges["createArtifactFiles"]["files"]["edges"][0]["node"]["uploadUrl"]
    assert put(client, upload, MODEL).status_code == 200
    content = json.loads(manifest_of(files, artifact_id))
    for name in ("a-ref.csv", "z-ref.pb"):
        content["contents"][name] = {"digest": "etag-1", "ref": f"s3://bucket/{name}", "size": 10}
    assert (
        put(client, manifest["file"]["uploadUrl"], json.dumps(content).encode()).status_code == 200
    )
    ok(gql(client, alice_key, "CommitArtifact", {"artifactID": artifact_id}))

    def page(names=None):
        answer = ok(gql(client, alice_key, "Files", {"alias": "v0", "names": names}, query=FILES))
        return answer["project"]["artifactCollection"]["artifactMembership"]["files"]

    listed = page()
    assert listed["totalCount"] == 3
    nodes = [edge["node"] for edge in listed["edges"]]
    assert [node["name"] for node in nodes] == ["a-ref.csv", "model.bin", "z-ref.pb"]
    assert nodes[0]["directUrl"] == "s3://bucket/a-ref.csv" and nodes[0]["digest"] == "etag-1"
    only = page(["z-ref.pb"])
    assert only["totalCount"] == 1 and only["edges"][0]["node"]["name"] == "z-ref.pb"
