"""Saved views and the leaderboard in a real browser: filter the runs table, save the view,
open it from the Views menu and see the filter applied; open the leaderboard. Screenshots go
to /tmp/savedviews-shots/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from projects.services import project_create
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/savedviews-shots")


@pytest.fixture
def vision(team, alice):
    project = project_create(entity=team, name="vision", creator=alice)
    for index, (dataset, acc) in enumerate(
        [("mnist", 0.91), ("mnist", 0.97), ("cifar", 0.72), ("cifar", 0.81), ("svhn", 0.88)]
    ):
        RunFactory(
            project=project,
            run_id=f"run{index}",
            name=f"bright-sky-{index}",
            author=alice,
            config={"dataset": dataset, "lr": 0.1 / (index + 1)},
            summary={"val/acc": acc},
        )
    return project


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_save_a_filtered_table_and_open_it_from_the_menu(page, login, alice, vision):
    login(page.context, alice)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(vision.get_absolute_url())
    page.locator("#query").fill('config.dataset = "cifar"')
    page.locator("#filters button[type=submit]").click()
    expect(page.locator("text=bright-sky-2")).to_be_visible()
    expect(page.locator("text=bright-sky-0")).to_have_count(0)

    page.locator("#views-menu > summary").click()
    page.get_by_label("View name").fill("Only cifar")
    page.get_by_label("Share with the team").check()
    shot(page, "1-save-view")
    page.get_by_role("button", name="Save view").click()
    expect(page.locator(".messages")).to_contain_text("Saved the view")

    page.goto(vision.get_absolute_url())  # the plain table: every run
    expect(page.locator("text=bright-sky-0")).to_be_visible()
    page.locator("#views-menu > summary").click()
    shot(page, "2-views-menu")
    page.get_by_role("link", name="Only cifar").click()
    expect(page.locator("#query")).to_have_value('config.dataset = "cifar"')
    expect(page.locator("text=bright-sky-3")).to_be_visible()
    expect(page.locator("text=bright-sky-0")).to_have_count(0)
    shot(page, "3-view-opened")


def test_open_the_leaderboard_and_choose_a_metric_and_group(page, login, alice, vision):
    login(page.context, alice)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(vision.get_absolute_url())
    page.get_by_role("link", name="Leaderboard", exact=True).click()
    page.get_by_label("Metric").fill("summary.val/acc")
    page.get_by_label("Best per").fill("config.dataset")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("#leaderboard tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("mnist")
    expect(rows.nth(0)).to_contain_text("bright-sky-1")
    expect(rows.nth(2)).to_contain_text("cifar")
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    shot(page, "4-leaderboard")
