"""The run comparer in a real browser: tick three runs in the runs table, press Compare, read the
columns, toggle "only differences" (an htmx swap, the address kept linkable); at phone width the
wide table scrolls inside its box. Screenshots go to /tmp/compare-shots/."""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from projects.services import project_create
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/compare-shots")
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def resnet(team, alice, bob):
    project = project_create(entity=team, name="resnet", creator=alice)
    shared = {"epochs": 16, "dataset": {"name": "imagenet-1k", "split": "train"}}
    for index, (lr, optimizer, loss, acc) in enumerate(
        [
            (0.1, "sgd", 0.412, 0.861),
            (0.01, "adamw", 0.298, 0.903),
            (0.001, "adamw", 0.335, 0.894),
            (0.0003, "lion", 0.5, 0.8),
        ]
    ):
        RunFactory(
            project=project,
            run_id=f"run{index}",
            name=f"curious-valley-{index}",
            author=alice if index % 2 else bob,
            config={**shared, "lr": lr, "optimizer": optimizer, "_wandb": {"cli": "0.22"}},
            summary={
                "val/loss": loss,
                "val/accuracy": acc,
                "epoch": 15,
                "_step": 1500,
                "predictions": {"_type": "table-file", "path": "media/table/p.json"},
                "a_rather_long_metric_name/with/several/parts_and_more": index / 3,
            }
            | ({"train/extra_only_here": 1} if index == 0 else {}),
            runtime=600.0 + index * 37,
        )
    return project


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_tick_three_runs_compare_and_show_only_differences(page, login, alice, resnet):
    login(page.context, alice)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(resnet.get_absolute_url())
    compare = page.get_by_role("button", name="Compare")
    expect(compare).to_be_disabled()  # nothing ticked yet
    for index in (0, 1, 2):
        page.get_by_label(f"Select curious-valley-{index}").check()
    expect(compare).to_be_enabled()
    shot(page, "1-table-selected")
    compare.click()

    page.wait_for_url("**/compare/?*")
    query = parse_qs(urlsplit(page.url).query)
    assert sorted(query["run"]) == ["run0", "run1", "run2"]
    table = page.locator("#compare-table")
    heads = table.locator("thead th.run-head")
    expect(heads).to_have_count(3)
    for index in (0, 1, 2):
        expect(heads.filter(has_text=f"curious-valley-{index}")).to_have_count(1)
    expect(table.get_by_role("row", name="optimizer")).to_be_visible()
    expect(table.get_by_role("row", name="dataset.name")).to_be_visible()
    expect(table.get_by_role("row", name="predictions")).to_contain_text("table")
    best = table.get_by_role("row", name="val/loss").locator("td.best")
    expect(best).to_have_count(1)
    expect(best).to_contain_text("0.298")
    expect(page.get_by_text("_wandb")).to_have_count(0)
    shot(page, "2-compare-all-rows")

    page.evaluate("window.notReloaded = true")
    page.get_by_role("link", name="Only differences").click()
    expect(page.get_by_role("link", name="Only differences")).to_have_attribute(
        "aria-current", "true"
    )
    assert page.evaluate("window.notReloaded") is True  # swapped by htmx, not reloaded
    assert parse_qs(urlsplit(page.url).query)["diff"] == ["1"]
    expect(table.get_by_role("row", name="epochs")).to_have_count(0)
    expect(table.get_by_role("row", name="dataset.name")).to_have_count(0)
    expect(table.get_by_role("row", name="lr")).to_be_visible()
    expect(table.get_by_role("row", name="train/extra_only_here")).to_be_visible()
    shot(page, "3-compare-only-differences")

    page.reload()  # the address alone gives the same page
    expect(table.get_by_role("row", name="epochs")).to_have_count(0)
    page.get_by_role("link", name="All rows").click()
    expect(table.get_by_role("row", name="epochs")).to_be_visible()


def test_compare_at_phone_width_scrolls_inside_its_box(page, login, alice, resnet):
    login(page.context, alice)
    page.set_viewport_size(PHONE)
    page.goto(f"/{resnet.entity.name}/{resnet.name}/compare/?run=run0&run=run1&run=run2&run=run3")
    expect(page.locator("#compare-table thead th.run-head")).to_have_count(4)
    shot(page, "4-compare-phone")
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    box = page.locator(".compare-scroll")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # the table scrolls in its box


def test_too_few_runs_show_a_message(page, login, alice, resnet, browser_errors):
    login(page.context, alice)
    page.goto(f"/{resnet.entity.name}/{resnet.name}/compare/?run=run0")
    expect(page.get_by_role("alert")).to_contain_text("Pick at least 2 runs")
    shot(page, "5-compare-too-few")
    # The page's own 400 status is the one error the browser may report.
    browser_errors[:] = [error for error in browser_errors if "status of 400" not in error]
