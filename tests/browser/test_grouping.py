"""Grouping in a real browser: group the runs table by a config key from the toolbar, see a row
per group with its run count, follow a group to the table filtered to its runs; the workspace
charts draw each group's mean over a shaded band. Screenshots go to /tmp/grouping/."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from projects.services import project_create
from runs.ingest import HISTORY_FILE, apply_file_stream, parse_file_stream
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/grouping")
PHONE = {"width": 390, "height": 844}
OPTIMIZERS = ["adam", "adam", "adam", "sgd", "sgd", "rmsprop"]


@pytest.fixture
def sweep(team, alice):
    project = project_create(entity=team, name="sweep", creator=alice)
    for index, optimizer in enumerate(OPTIMIZERS):
        run = RunFactory(
            project=project,
            run_id=f"run{index}",
            name=f"quiet-lake-{index}",
            author=alice,
            tags=["baseline"] if index % 2 else ["baseline", "v2"],
            config={"optimizer": optimizer, "lr": 0.1 / (index + 1)},
            summary={"loss": 1.0 / (index + 1), "acc": 0.5 + index / 20},
        )
        rows = [
            {"_step": step, "loss": (2.0 + index % 3) / (step + 1) + 0.05 * index}
            for step in range(40)
        ]
        payload = {"files": {HISTORY_FILE: {"offset": 0, "content": [json.dumps(r) for r in rows]}}}
        apply_file_stream(run, parse_file_stream(payload))
    return project


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_group_the_table_from_the_toolbar_and_open_a_group(page, login, alice, sweep):
    login(page.context, alice)
    page.goto(sweep.get_absolute_url() + "?state=finished")

    page.select_option("select[name=group]", "config.optimizer")
    page.locator("#filters button[type=submit]").click()

    rows = page.locator("#grouped-table [data-group-row]")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator("td").nth(0)).to_have_text("adam")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("3")
    expect(rows.nth(1).locator("td").nth(0)).to_have_text("sgd")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text("2")
    expect(page.locator("#grouped-runs .group-key")).to_contain_text("optimizer")
    assert "group=config.optimizer" in page.url and "state=finished" in page.url
    shot(page, "grouped-table")

    rows.nth(1).locator("td").nth(0).locator("a").click()

    expect(page.locator("#runs-table tbody tr")).to_have_count(2)
    expect(page.locator("#run-count")).to_have_text("2")
    expect(page.locator("#query")).to_have_value('config.optimizer = "sgd"')
    assert "group=" not in page.url and "state=finished" in page.url
    # The workspace follows: a line per run of the group.
    panel = page.locator('[data-workspace-panel][data-key="loss"]')
    expect(panel.locator(".legendtext")).to_have_text(["quiet-lake-4", "quiet-lake-3"])
    expect(page.locator("[data-workspace-note]")).to_contain_text("One line per run")
    shot(page, "group-opened")


def test_the_grouped_workspace_draws_a_mean_line_over_a_band_per_group(page, login, alice, sweep):
    login(page.context, alice)
    page.goto(sweep.get_absolute_url() + "?group=config.optimizer")

    panel = page.locator('[data-workspace-panel][data-key="loss"]')
    expect(panel).to_have_attribute("data-loaded", str(3 * 40))
    # Per group: the band's lower edge, its upper edge filled down to it, and the mean.
    expect(panel.locator(".scatterlayer .trace")).to_have_count(9)
    expect(panel.locator(".scatterlayer path.js-fill")).to_have_count(3)
    expect(panel.locator(".legendtext")).to_have_text(
        ["adam (3 runs)", "sgd (2 runs)", "rmsprop (1 run)"]
    )
    expect(page.locator("[data-workspace-note]")).to_contain_text("One line per group")
    shot(page, "grouped-workspace")

    # Ungrouping from the table brings back a line per run.
    page.locator("#grouped-runs a", has_text="Ungroup").click()
    expect(page.locator("#runs-table")).to_be_visible()
    expect(panel.locator(".legendtext")).to_have_count(6)
    expect(page.locator("[data-workspace-note]")).to_contain_text("One line per run")


def test_the_grouped_table_fits_a_phone(page, login, alice, sweep):
    login(page.context, alice)
    page.set_viewport_size(PHONE)

    page.goto(sweep.get_absolute_url() + "?group=config.optimizer&group=tags&col=summary.loss")

    expect(page.locator("#grouped-table [data-group-row]").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    shot(page, "grouped-phone")
