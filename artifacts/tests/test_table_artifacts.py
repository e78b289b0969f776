"""Tables the client keeps in a run_table artifact (what wandb 0.31.0 logs: see
api/tests/test_wandb_client.py): the run page's table reads the artifact's table file, whose
image cells show as thumbnails of the artifact's files.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider).
"""

import json
import re

import pytest
from django.urls import reverse

from artifacts.models import Artifact, ArtifactCollection, ArtifactFile
from runs.ingest import HISTORY_FILE
from runs.tests.test_media import png, upload
from runs.tests.test_media_table_views import COLUMNS, get_table, table_rows, table_value
from runs.tests.test_run_sections import login, send
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="evals")
    return RunFactory(project=project, author=alice, run_id="scorer")


def log_artifact_table(run, *, step=0, version=0):
    """The run file with "Image" where the images were, the artifact with the cells whole."""
    value = table_value(step=step, artifact_path="wandb-client-artifact://abc/scores.table.json")
    plain = {"columns": COLUMNS, "data": [[*row[:3], "Image"] for row in table_rows(30)]}
    upload(run, value["path"], json.dumps(plain).encode())
    collection, _ = ArtifactCollection.objects.get_or_create(
        project=run.project, name=f"run-{run.run_id}-scores", type="run_table"
    )
    artifact = Artifact.objects.create(
        collection=collection,
        version_index=version,
        digest=f"{version}" * 32,
        state=Artifact.State.COMMITTED,
        created_by_run=run,
        history_step=step,
    )
    image_file = upload(run, f"stored/{version}.png", png(color=(30, 200, 30)))
    full = {
        "_type": "table",
        "columns": COLUMNS,
        "data": table_rows(30, lambda n: "media/images/h.png"),
    }
    table_file = upload(run, f"stored/{version}.table.json", json.dumps(full).encode())
    for name, stored in (("scores.table.json", table_file), ("media/images/h.png", image_file)):
        ArtifactFile.objects.create(
            artifact=artifact,
            name=name,
            md5="m" * 24,
            size=stored.size,
            storage_name=stored.storage_name,
        )
    send(run, HISTORY_FILE, [{"_step": step, "scores": value}])
    return artifact


def artifact_url(name, artifact, file_name):
    project = artifact.collection.project
    args = [project.entity.name, project.name, artifact.collection.name, artifact.version_index]
    return reverse(name, args=[*args, file_name])


def test_a_table_with_a_run_table_artifact_shows_the_artifacts_images(client, bob, run):
    artifact = log_artifact_table(run)
    login(client, bob)

    html = get_table(client, run).content.decode()

    assert "Image" not in re.sub(r"<[^>]+>", "", html.split("<tbody>")[1])
    thumbnail = artifact_url("artifacts:thumbnail", artifact, "media/images/h.png")
    assert html.count(f'<img src="{thumbnail}"') == 25
    assert f'href="{artifact_url("artifacts:file", artifact, "media/images/h.png")}"' in html
    response = client.get(thumbnail)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"


def test_each_step_reads_the_newest_artifact_version_logged_by_then(client, bob, run):
    log_artifact_table(run, step=0, version=0)
    second = log_artifact_table(run, step=5, version=1)
    # Logged again unchanged at step 9: the client makes no new version.
    send(run, HISTORY_FILE, [{"_step": 9, "scores": table_value(step=9, artifact_path="x")}])
    upload(run, table_value(step=9)["path"], b'{"columns": [], "data": []}')
    login(client, bob)

    html = get_table(client, run, step=9).content.decode()

    assert artifact_url("artifacts:thumbnail", second, "media/images/h.png") in html


def test_an_artifact_thumbnail_of_a_file_that_is_no_image_is_404(client, bob, run):
    artifact = log_artifact_table(run)
    login(client, bob)

    assert (
        client.get(artifact_url("artifacts:thumbnail", artifact, "scores.table.json")).status_code
        == 404
    )
    assert (
        client.get(artifact_url("artifacts:thumbnail", artifact, "nothing.png")).status_code == 404
    )
