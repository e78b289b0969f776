"""The run trash in a real browser: delete a run from the runs table (it goes to the trash),
open the trash from the table, restore it, and it is back in the table."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from projects.services import project_create
from runs.models import Run
from tests.factories import RunFactory

SHOTS = Path("/tmp/run-trash-shots")


@pytest.fixture
def resnet(team, alice, bob):
    project = project_create(entity=team, name="resnet", creator=alice)
    RunFactory(project=project, run_id="calm1", name="calm-lake", author=bob)
    RunFactory(project=project, run_id="sky1", name="diverging-sky", author=bob)
    return project


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_delete_a_run_then_restore_it_from_the_trash(page, login, bob, resnet):
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/{resnet.path}/")
    table = page.locator("#runs-table")
    expect(table).to_contain_text("diverging-sky")

    page.get_by_label("Select diverging-sky").check()
    page.get_by_role("button", name="Delete…").click()
    expect(page.locator("h1")).to_have_text("Move 1 run to the trash?")
    page.get_by_role("button", name="Move 1 run to trash").click()

    expect(page.locator(".messages")).to_contain_text("Moved 1 run to the trash")
    expect(table).not_to_contain_text("diverging-sky")
    expect(page.locator("#run-count")).to_have_text("1")
    trash_link = page.locator("#trash-link")
    expect(trash_link).to_have_text("Trash (1)")
    shot(page, "runs-table-with-trash")
    trash_link.click()

    expect(page.locator("h1")).to_have_text("Trash")
    row = page.locator('#trash-table tr[data-run-id="sky1"]')
    expect(row).to_contain_text("diverging-sky")
    expect(row).to_contain_text(f"{timezone.now() + timedelta(days=30):%Y-%m-%d}")
    shot(page, "run-trash")
    page.get_by_label("Select diverging-sky").check()
    page.get_by_role("button", name="Restore").click()

    expect(page.locator(".messages")).to_contain_text("Restored 1 run.")
    expect(page.locator("#trash-table")).to_contain_text("The trash is empty.")
    assert Run.objects.filter(run_id="sky1").exists()
    page.get_by_role("link", name="← Runs").click()
    expect(page.locator("#runs-table")).to_contain_text("diverging-sky")
    expect(page.locator("#trash-link")).to_have_text("Trash")
