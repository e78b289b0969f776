"""The run trash with the unmodified wandb client: `run.delete()` moves a run to its project's
trash (gone from `api.runs()`, listed on the trash page), restoring it brings it back, and
`wandb.init()` with the id of a run in the trash is refused with a clear message."""

import pytest

from projects.services import project_create
from runs import services
from runs.models import Run
from tests.factories import RunFactory, api_key_for
from tests.wandb_client import WandbClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wandb_env(live_server, tmp_path):
    return WandbClient(live_server.url, tmp_path)


@pytest.fixture
def resnet(team, alice, bob):
    project = project_create(entity=team, name="resnet", creator=alice)
    RunFactory(project=project, run_id="keep1", name="kept", author=alice)
    RunFactory(project=project, run_id="bobs1", name="bobs", author=bob)
    return project


def test_run_delete_trashes_and_the_trash_page_restores(wandb_env, client, resnet, bob):
    key = api_key_for(bob)

    deleted, completed = wandb_env.run(
        "trash.py", "delete", "example-team/resnet", "bobs1", key=key
    )

    assert "error" not in deleted, deleted["error"] + completed.stderr[-2000:]
    assert deleted["runs"] == ["keep1"]
    run = Run.with_trashed.get(run_id="bobs1")
    assert run.trashed_at is not None and run.trashed_by == bob
    client.force_login(bob)
    page = client.get(f"/{resnet.path}/trash/").content.decode()
    assert 'data-run-id="bobs1"' in page

    response = client.post(f"/{resnet.path}/trash/restore/", {"run": ["bobs1"]})
    assert response.status_code == 302

    listed, _ = wandb_env.run("trash.py", "list", "example-team/resnet", key=key)
    assert listed["runs"] == ["bobs1", "keep1"]


def test_init_with_the_id_of_a_run_in_the_trash_is_refused(wandb_env, resnet, alice):
    services.runs_delete(actor=alice, project=resnet, runs=Run.objects.filter(run_id="keep1"))

    result, completed = wandb_env.run(
        "trash.py", "init", "example-team", "resnet", "keep1", key=api_key_for(alice)
    )

    assert "logged" not in result
    said = result.get("init_error", "") + completed.stderr
    assert "was previously created and deleted" in said, said[-3000:]
    run = Run.with_trashed.get(run_id="keep1")
    assert run.trashed_at is not None and run.name == "kept"
    assert Run.with_trashed.filter(project=resnet).count() == 2
