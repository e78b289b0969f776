"""Artifact versions on the project page, their files downloaded by those who see the project,
and a file repeated across versions stored once.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in open-team.
"""

import base64
import hashlib
import io
import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from artifacts.models import ArtifactFile
from artifacts.services import (
    artifact_commit,
    artifact_create,
    artifact_file_store,
    artifact_files_create,
    artifact_manifest_store,
)
from tests.factories import ProjectFactory, RunFactory

WEIGHTS = b"\x00\x01weights" * 100
WEIGHTS_MD5 = base64.b64encode(hashlib.md5(WEIGHTS).digest()).decode()


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def run(resnet, alice):
    return RunFactory(project=resnet, run_id="a6opolcx", name="bold-sun-7", author=alice)


@pytest.fixture
def model(resnet, run):
    artifact = artifact_create(
        project=resnet, run=run, type_name="model", name="mymodel", digest="d0", aliases=["best"]
    )
    [(file, needs_upload)] = artifact_files_create(
        artifact=artifact, files=[("weights.bin", WEIGHTS_MD5)]
    )
    assert needs_upload
    artifact_file_store(file, io.BytesIO(WEIGHTS))
    store_manifest(artifact, {"weights.bin": len(WEIGHTS)})
    return artifact_commit(artifact)


def store_manifest(artifact, sizes: dict[str, int]):
    contents = {name: {"digest": "", "size": size} for name, size in sizes.items()}
    artifact_manifest_store(artifact, io.BytesIO(json.dumps({"contents": contents}).encode()))


def artifact_file_url(project, version, name):
    return reverse(
        "artifacts:file", args=[project.entity.name, project.name, "mymodel", version, name]
    )


def test_artifact_versions_and_files_are_listed_and_downloaded(
    client, alice, bob, charlie, model, run
):
    url = artifact_file_url(run.project, 0, "weights.bin")

    client.force_login(bob)
    page = client.get(run.project.get_absolute_url()).content.decode()
    download = client.get(url)
    missing = client.get(artifact_file_url(run.project, 1, "weights.bin"))
    client.force_login(charlie)
    refused = client.get(url)

    assert "mymodel" in page and "v0" in page and "best" in page and url in page
    assert b"".join(download.streaming_content) == WEIGHTS
    assert missing.status_code == 404
    assert refused.status_code == 404


def test_a_repeated_artifact_file_is_stored_once(resnet, run, model):
    second = artifact_create(
        project=resnet, run=run, type_name="model", name="mymodel", digest="d1"
    )
    [(file, needs_upload)] = artifact_files_create(
        artifact=second, files=[("weights.bin", model.files.get().md5)]
    )

    assert not needs_upload
    assert file.storage_name == model.files.get().storage_name
    assert file.size == len(WEIGHTS)
    store_manifest(second, {"weights.bin": len(WEIGHTS)})
    artifact_commit(second)
    _, stored = default_storage.listdir(file.storage_name.rsplit("/", 1)[0])
    assert stored == [file.storage_name.rsplit("/", 1)[1]]


def test_files_are_stored_where_the_client_expects_and_older_ones_are_still_shared(
    resnet, run, model
):
    stored = model.files.get()
    assert stored.storage_name.startswith(f"wandb_artifacts/{resnet.entity_id}/")
    # A file stored under the earlier "artifacts/" name is found by its content.
    legacy = stored.storage_name.replace("wandb_artifacts/", "artifacts/", 1)
    default_storage.save(legacy, io.BytesIO(WEIGHTS))
    ArtifactFile.objects.filter(pk=stored.pk).update(storage_name=legacy)
    second = artifact_create(
        project=resnet, run=run, type_name="model", name="mymodel", digest="d1"
    )

    [(file, needs_upload)] = artifact_files_create(
        artifact=second, files=[("weights.bin", stored.md5)]
    )

    assert (needs_upload, file.storage_name, file.size) == (False, legacy, len(WEIGHTS))
