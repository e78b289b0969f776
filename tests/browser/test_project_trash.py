"""The project trash in a real browser: move a project to the trash from its settings, follow
the message's Undo link to the trash and restore it; an admin deletes another for good."""

import re

import pytest
from playwright.sync_api import expect

from projects.models import Project
from projects.services import project_create
from runs.models import Run
from tests.factories import RunFactory


@pytest.fixture
def resnet(team, alice):
    project = project_create(entity=team, name="resnet", creator=alice)
    RunFactory(project=project, run_id="r1", author=alice)
    return project


def test_trash_a_project_then_undo_from_the_message(page, login, alice, resnet, tmp_path):
    login(page.context, alice)
    page.goto("/example-team/resnet/settings/")
    page.get_by_label("Type the project's name to confirm").fill("resnet")
    page.get_by_role("button", name="Move to trash").click()

    expect(page).to_have_url(re.compile(r"/example-team/$"))
    message = page.locator(".messages")
    expect(message).to_contain_text("moved to the trash")
    expect(page.locator("#projects")).not_to_contain_text("resnet")
    assert not Run.objects.exists()

    message.get_by_role("link", name="Undo: restore it from the trash").click()
    row = page.locator("#trashed-resnet")
    expect(row).to_contain_text("alice")
    page.screenshot(path=tmp_path / "project-trash.png", full_page=True)
    row.get_by_role("button", name="Restore").click()

    expect(page.locator(".messages")).to_contain_text("were restored")
    assert Project.objects.filter(name="resnet").exists()
    assert list(Run.objects.values_list("run_id", flat=True)) == ["r1"]


def test_admin_deletes_a_project_for_good_from_the_trash(page, login, alice, resnet):
    login(page.context, alice)
    page.goto("/example-team/resnet/settings/")
    page.get_by_label("Type the project's name to confirm").fill("resnet")
    page.get_by_role("button", name="Move to trash").click()
    page.goto("/example-team/projects/trash/")

    row = page.locator("#trashed-resnet")
    row.get_by_label("Type resnet to delete it for good").fill("resnet")
    row.get_by_role("button", name="Delete forever").click()

    expect(page.locator(".messages")).to_contain_text("deleted for good")
    expect(page.locator("#trash")).to_contain_text("The trash is empty.")
    assert not Project.with_trashed.exists()
