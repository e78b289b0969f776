"""A version written by several runs at once, as `run.upsert_artifact()` in each writer and one
`run.finish_artifact()` send it: every writer's part lands in one pending version, whose
manifest is the union of the parts, committed once by the finisher."""

import json

import pytest
from django.core.files.storage import default_storage

from artifacts.models import Artifact
from artifacts.services import manifest_digest
from runs.models import Run

from .test_artifacts_api import (
    MODEL,
    NOTES,
    artifact_of,
    b64md5,
    commit,
    create_artifact,
    create_files,
    create_manifest,
    put,
    run,  # noqa: F401 (fixture)
    upload_manifest,
)
from .test_graphql import ok, refused

pytestmark = pytest.mark.django_db
GROUP = "train-group-7"


def upsert(client, key, files: dict[str, bytes], run_id="iehvayav", group=GROUP):
    """One writer's part: its files and its manifest, uncommitted."""
    created = ok(
        create_artifact(client, key, files=files, run=run_id, distributedID=group, aliases=[])
    )["createArtifact"]["artifact"]
    manifest = ok(create_manifest(client, key, created["id"], include_upload=False))
    manifest_id = manifest["createArtifactManifest"]["artifactManifest"]["id"]
    if files:
        edges = ok(create_files(client, key, created["id"], manifest_id, files))
        for name, edge in zip(files, edges["createArtifactFiles"]["files"]["edges"], strict=True):
            if edge["node"]["uploadUrl"]:
                assert put(client, edge["node"]["uploadUrl"], files[name]).status_code == 200
    upload_manifest(client, key, created["id"], files)
    return created


@pytest.fixture
def second_run(run):  # noqa: F811
    return Run.objects.create(project=run.project, author=run.author, run_id="k2r8wq1z")


def stored_entries(artifact: Artifact) -> dict:
    with default_storage.open(artifact.manifest_storage_name, "rb") as stream:
        return json.loads(stream.read())["contents"]


def test_the_parts_of_all_writers_make_one_version(client, run, second_run, alice_key):  # noqa: F811
    first = upsert(client, alice_key, {"model.bin": MODEL})
    second = upsert(client, alice_key, {"notes.txt": NOTES}, run_id=second_run.run_id)
    finish = upsert(client, alice_key, {})
    assert first["id"] == second["id"] == finish["id"]
    assert first["state"] == "PENDING"

    ok(commit(client, alice_key, finish["id"]))

    artifact = artifact_of(finish["id"])
    entries = stored_entries(artifact)
    assert sorted(entries) == ["model.bin", "notes.txt"]
    assert entries["notes.txt"]["digest"] == b64md5(NOTES)
    assert (artifact.state, artifact.version_index) == (Artifact.State.COMMITTED, 0)
    assert (artifact.file_count, artifact.size) == (2, len(MODEL) + len(NOTES))
    assert artifact.digest == manifest_digest(entries)
    assert sorted(artifact.files.values_list("name", flat=True)) == ["model.bin", "notes.txt"]
    assert list(artifact.logged_by.all()) == [second_run]
    assert list(artifact.aliases.values_list("alias", flat=True)) == ["latest"]


def test_a_part_written_again_replaces_that_entry_only(client, run, alice_key):  # noqa: F811
    upsert(client, alice_key, {"model.bin": MODEL, "notes.txt": b"draft"})
    created = upsert(client, alice_key, {"notes.txt": NOTES})

    entries = stored_entries(artifact_of(created["id"]))

    assert entries["notes.txt"]["digest"] == b64md5(NOTES)
    assert entries["model.bin"]["digest"] == b64md5(MODEL)


def test_after_the_commit_the_same_group_starts_the_next_version(client, run, alice_key):  # noqa: F811
    first = upsert(client, alice_key, {"model.bin": MODEL})
    ok(commit(client, alice_key, first["id"]))

    again = upsert(client, alice_key, {"notes.txt": NOTES})

    assert again["id"] != first["id"]
    assert artifact_of(again["id"]).version_index == 1
    assert sorted(stored_entries(artifact_of(again["id"]))) == ["notes.txt"]


def test_different_groups_write_different_versions(client, run, alice_key):  # noqa: F811
    one = upsert(client, alice_key, {"model.bin": MODEL}, group="a")
    other = upsert(client, alice_key, {"model.bin": MODEL}, group="b")

    assert one["id"] != other["id"]


def test_an_overlong_group_is_refused_and_creates_nothing(client, run, alice_key):  # noqa: F811
    response = create_artifact(client, alice_key, distributedID="g" * 129)

    assert "at most 128" in refused(response, 400)
    assert not Artifact.objects.exists()
