"""A logged table in a real browser: the run page loads its first page into the media panel,
the pager moves to the next rows and a column head sorts them, all inside the panel."""

import pytest
from playwright.sync_api import expect

from runs.tests.test_media_table_views import log_table
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = "/tmp/tables-shots"


def labels(panel):
    return panel.locator("td.cell-text").all_inner_texts()


def test_a_table_pages_and_sorts_inside_its_panel(page, login, team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="evals")
    run = RunFactory(project=project, author=alice, run_id="scorer")
    log_table(run, rows=40)
    login(page.context, alice)

    page.goto(run.get_absolute_url() + "#media")

    panel = page.locator("[data-media-panel]")
    table = panel.locator("[data-table]")
    expect(table.locator("[data-table-size]")).to_have_text("40 rows \u00d7 4 columns")
    expect(table.locator("tbody tr")).to_have_count(25)
    assert labels(table)[:2] == ["item 0", "item 1"]
    page.wait_for_function(
        "() => [...document.querySelectorAll('td.cell-image img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    page.locator("#media").screenshot(path=f"{SHOTS}/table-first-page.png")

    table.get_by_role("link", name="Next").click()

    expect(table.locator("tbody tr")).to_have_count(15)
    assert labels(table)[0] == "item 25"
    expect(table.locator("[aria-current=page]")).to_have_text("2")

    table.get_by_role("link", name="score").click()

    expect(table.locator("th[aria-sort=ascending]")).to_have_text("score ▲")
    assert labels(table)[:3] == ["item 39", "item 38", "item 37"]
    table.get_by_role("link", name="score ▲").click()
    expect(table.locator("th[aria-sort=descending]")).to_have_text("score ▼")
    assert labels(table)[0] == "item 0"

    table.get_by_label("Filter the rows of scores").fill("item 3")
    table.get_by_role("button", name="Filter").click()
    expect(table.locator("[data-table-size]")).to_contain_text("11 matches")
    assert labels(table)[0] == "item 3"  # still sorted by score, descending
    page.locator("#media").screenshot(path=f"{SHOTS}/table-sorted-filtered.png")


def test_a_wide_table_scrolls_inside_its_panel_on_a_phone(browser, live_server, login, team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="evals")
    run = RunFactory(project=project, author=alice, run_id="scorer")
    log_table(run, rows=30)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    login(context, alice)
    page = context.new_page()

    page.goto(live_server.url + run.get_absolute_url() + "#media")

    expect(page.locator("[data-table] tbody tr")).to_have_count(25)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    page.locator("#media").screenshot(path=f"{SHOTS}/table-phone.png")
    context.close()
