"""The runs query box in a real browser: a typed query filters the table (htmx, no reload), a
mistake shows under the box with its column marked, and the box suggests the project's keys
at the cursor, picked with the keyboard or the mouse. Screenshots go to /tmp/querylang-shots/."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from projects.services import project_create
from runs.models import Run

SHOTS = Path("/tmp/querylang-shots")


@pytest.fixture
def resnet(team, alice):
    project = project_create(entity=team, name="resnet", creator=alice)
    start = timezone.now() - timedelta(days=1)
    Run.objects.bulk_create(
        Run(
            project=project,
            run_id=f"id{index:02d}",
            name=f"{'resnet' if index % 2 else 'vgg'}-{index:02d}",
            author=alice,
            state=Run.State.FAILED if index % 3 == 0 else Run.State.FINISHED,
            config={"lr": [0.1, 0.01, 0.001][index % 3], "optimizer": "adam"},
            summary={"val/acc": index / 12, "val loss": 1 - index / 12},
            tags=["baseline"] if index % 4 == 0 else [],
            created_at=start + timedelta(minutes=index),
        )
        for index in range(12)
    )
    return project


@pytest.fixture
def table(page, login, alice, resnet):
    login(page.context, alice)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/{resnet.entity.name}/{resnet.name}/")
    page.evaluate("window.notReloaded = true")
    return page


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=False)


def names(page):
    return page.locator("#runs-table tbody td[data-run-id] a").all_inner_texts()


def test_typing_a_query_filters_the_table(table, browser_errors):
    box = table.get_by_label("Search or query runs")
    box.fill("summary.val/acc >= 0.5 and config.lr <= 0.01")
    box.press("Enter")

    expect(table.locator("#run-count")).to_have_text("4")
    assert sorted(names(table)) == ["resnet-07", "resnet-11", "vgg-08", "vgg-10"]
    assert "config.lr" in table.url
    assert table.evaluate("window.notReloaded") is True  # htmx swapped the table
    shot(table, "1-query-filters-the-table")


def test_a_bad_query_shows_the_mistake_under_the_box(table, browser_errors):
    box = table.get_by_label("Search or query runs")
    box.fill("summary.val/acc >= and state = failed")
    box.press("Enter")

    error = table.locator("#query-error")
    expect(error).to_contain_text("Expected a value after “>=”, not “and” at column 20")
    expect(error.locator("mark")).to_have_text("a")
    expect(table.locator("#run-count")).to_have_text("12")  # the query is not applied
    expect(table.get_by_label("Search or query runs")).to_have_value(
        "summary.val/acc >= and state = failed"
    )
    shot(table, "2-bad-query-inline-error")


def test_the_box_suggests_keys_at_the_cursor(table, browser_errors):
    box = table.get_by_label("Search or query runs")
    box.click()
    box.press_sequentially("state = failed and summary.val", delay=20)

    suggestions = table.locator("#query-suggestions [role=option]")
    expect(suggestions).to_have_count(2)
    expect(suggestions.first).to_contain_text("summary.`val loss`")  # quoted: it has a space
    expect(suggestions.nth(1)).to_contain_text("summary.val/acc")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(suggestions.nth(1)).to_have_attribute("aria-selected", "true")
    shot(table, "3-key-suggestions")
    box.press("Enter")
    expect(box).to_have_value("state = failed and summary.val/acc")
    expect(suggestions).to_have_count(0)

    # A click picks too; the word under the cursor is replaced, not the end of the query.
    box.press_sequentially(" > 0.5 and con", delay=20)
    table.locator("#query-suggestions [role=option]", has_text="config.optimizer").click()
    expect(box).to_have_value("state = failed and summary.val/acc > 0.5 and config.optimizer")
    box.press_sequentially(" = adam")
    box.press("Enter")
    expect(table.locator("#run-count")).to_have_text("1")  # vgg-09: failed, 0.75
    shot(table, "4-picked-and-applied")


def test_no_suggestions_where_a_value_goes(table, browser_errors):
    box = table.get_by_label("Search or query runs")
    box.click()
    box.press_sequentially("state = fin", delay=20)
    table.wait_for_timeout(500)  # past the box's 150 ms pause and the request

    expect(table.locator("#query-suggestions [role=option]")).to_have_count(0)


def test_a_list_made_for_fewer_letters_still_replaces_the_whole_word(table, browser_errors):
    # Typing goes on while a list is on its way: a list made for "summary." arrives after
    # "val" was typed. Picking replaces the word as it is now, not as it was.
    box = table.get_by_label("Search or query runs")
    box.click()
    box.press_sequentially("state = failed and summary.val", delay=20)
    suggestions = table.locator("#query-suggestions [role=option]")
    expect(suggestions).to_have_count(2)
    table.evaluate(
        """() => {
            const list = document.querySelector("#query-suggestions ul");
            list.dataset.query = "state = failed and summary.";
            list.dataset.end = String(list.dataset.query.length);
        }"""
    )

    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("Enter")

    expect(box).to_have_value("state = failed and summary.val/acc")
