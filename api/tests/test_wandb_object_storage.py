"""The unmodified wandb client against a live Teamsite whose files are in S3-compatible storage (a
real S3 API server on loopback, tests/s3.py): it logs a run with its files and an artifact, and a
colleague downloads the artifact; the bytes go between the client and the bucket only."""

import pytest
from django.urls import reverse

from api import transfer
from api import wandb as wandb_endpoints
from artifacts.models import Artifact
from runs.models import Run
from tests.factories import api_key_for
from tests.wandb_client import WandbClient

pytestmark = pytest.mark.django_db(transaction=True)

WEIGHTS = bytes(range(256)) * 16  # what log_story.py logs as model.bin


@pytest.fixture
def through_the_site(monkeypatch):
    """The transfer links the site served itself, by action."""
    served = []
    for action, view in list(wandb_endpoints.TRANSFERS.items()):

        def counted(request, pk, action=action, view=view):
            served.append(action)
            return view(request, pk)

        monkeypatch.setitem(wandb_endpoints.TRANSFERS, action, counted)
    return served


def test_the_client_logs_a_run_and_an_artifact_and_downloads_it_through_the_bucket(
    live_server, tmp_path, s3_storage, through_the_site, client, team, alice, bob
):
    s3, bucket = s3_storage
    wandb = WandbClient(live_server.url, tmp_path)
    result, completed = wandb.run("log_story.py", "example-team", key=api_key_for(alice))
    assert completed.returncode == 0, completed.stderr[-3000:]

    run = Run.objects.get(run_id=result["id"])
    assert run.state == Run.State.FINISHED
    objects = {
        item["Key"]: item["Size"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    }
    # The run's files count once the client said they were uploaded, and are in the bucket.
    stored = {file.name: file for file in run.files.exclude(uploaded_at=None)}
    assert {"wandb-metadata.json", "requirements.txt", "config.yaml", "src/utils.py"} <= set(stored)
    for file in stored.values():
        assert objects[file.storage_name] == file.size
    assert run.metadata["host"]  # read from the bucket by the site
    # The run's page shows what the site reads from the bucket: a saved file, an image.
    client.force_login(bob)
    args = ["example-team", "resnet", run.run_id]
    saved = client.get(reverse("runs:file", args=[*args, "src/utils.py"])).content.decode()
    assert "scale" in saved
    image = next(name for name in stored if name.startswith("media/images/samples_0_"))
    thumbnail = client.get(reverse("runs:thumbnail", args=[*args, image]))
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"].startswith("image/")

    artifact = Artifact.objects.get(collection__project=run.project, collection__name="mymodel")
    assert artifact.state == Artifact.State.COMMITTED
    (weights,) = artifact.files.all()
    assert weights.storage_name.startswith("wandb_artifacts/")
    assert objects[weights.storage_name] == weights.size == len(WEIGHTS)

    read, completed = wandb.run(
        "read_back.py", "example-team/resnet", run.run_id, key=api_key_for(bob), cache="bob-cache"
    )
    assert "error" not in read, read["error"]
    assert read["artifact"]["files"] == {"model.bin": WEIGHTS.hex()}
    assert {"wandb-metadata.json", "requirements.txt"} <= set(read["files"])
    # Only the manifest went through the site, which reads it as it stores it.
    assert through_the_site and set(through_the_site) == {transfer.PUT_MANIFEST}
