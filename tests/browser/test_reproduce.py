"""The Reproduce panel of a run page in a real browser: the script names the commit, applies the
run's changes, installs its requirements, fetches its input artifacts and runs its command;
Copy puts exactly that script on the clipboard."""

import os

import pytest
from playwright.sync_api import expect

from artifacts.models import Artifact, ArtifactCollection
from runs.tests.test_reproduce import PATCH, upload
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)
COMMIT = "3f2a9c1d5e7b8a6c4d2e0f1a3b5c7d9e1f2a4b6c"


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    run = RunFactory(
        project=project,
        author=alice,
        run_id="abc123",
        name="bold-sun-7",
        git_remote="https://github.com/example/resnet.git",
        git_commit=COMMIT,
        config={"lr": 0.1},
        metadata={"program": "train.py", "codePath": "train.py", "args": ["--lr", "0.1"]},
    )
    upload(run, alice, "diff.patch", PATCH.encode())
    upload(run, alice, "requirements.txt", b"numpy>=2\n")
    data = ArtifactCollection.objects.create(project=project, name="mnist", type="dataset")
    Artifact.objects.create(
        collection=data, version_index=2, digest="d2", state=Artifact.State.COMMITTED
    ).used_by.add(run)
    model = ArtifactCollection.objects.create(project=project, name="model", type="model")
    Artifact.objects.create(
        collection=model,
        version_index=0,
        digest="m0",
        state=Artifact.State.COMMITTED,
        created_by_run=run,
    )
    return run


def test_the_reproduce_script_is_shown_and_copied(
    new_context, live_server, login, bob, run, browser_errors, tmp_path
):
    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    login(context, bob)
    page = context.new_page()
    shots = os.environ.get("SCREENSHOTS") or tmp_path

    page.goto(f"{live_server.url}/example-team/resnet/runs/abc123/")
    panel = page.locator("#reproduce")
    script = panel.locator("#reproduce-script")
    expect(script).to_contain_text("git clone https://github.com/example/resnet.git")
    expect(script).to_contain_text(f"git checkout {COMMIT}")
    expect(script).to_contain_text("git apply")
    expect(script).to_contain_text("pip install -r requirements.txt")
    expect(script).to_contain_text("wandb artifact get example-team/resnet/mnist:v2")
    expect(script).to_contain_text("python train.py --lr 0.1")
    expect(panel).to_contain_text("example-team/resnet/model:v0")
    panel.scroll_into_view_if_needed()
    page.screenshot(path=f"{shots}/reproduce.png", full_page=True)

    panel.get_by_role("button", name="Copy").first.click()

    expect(panel.get_by_role("button", name="Copied")).to_have_count(1)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == script.text_content().strip()
