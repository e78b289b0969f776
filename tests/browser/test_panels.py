"""Workspace panels in a real browser: add a scatter and a correlation panel through the Add
panel form, see Plotly draw them, narrow the table's query (an htmx swap that redraws the
panels), click a scatter point to open its run; at phone width nothing overflows. Screenshots go
to /tmp/panels/."""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from projects.services import project_create
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/panels")
OPTIMIZERS = ["sgd", "adamw", "lion"]


@pytest.fixture
def sweep(team, alice):
    project = project_create(entity=team, name="sweep", creator=alice)
    for index in range(9):
        RunFactory(
            project=project,
            run_id=f"run{index}",
            name=f"sweep-run-{index}",
            author=alice,
            group=f"group-{index % 2}",
            config={
                "lr": round(0.001 * (index + 1), 4),
                "batch": [32, 64, 128][index % 3],
                "optimizer": OPTIMIZERS[index % 3],
            },
            summary={"val/acc": round(0.6 + 0.03 * index, 3), "loss": round(1 / (index + 2), 3)},
        )
    return project


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def add_panel(page, kind, **fields):
    form = page.locator("form.panel-form")
    form.locator("select[name=kind]").select_option(kind)
    for name, value in fields.items():
        form.locator(f"select[name={name}]").select_option(value)
    form.get_by_role("button", name="Add panel").click()


def drawn_panels(page):
    return page.locator('#query-panels [data-query-panel][data-drawn="1"]')


def test_add_scatter_and_correlation_panels_then_filter_and_open_a_run(
    page, login, alice, sweep, browser_errors
):
    login(page.context, alice)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(sweep.get_absolute_url())
    # Only the chosen kind's fields show.
    form = page.locator("form.panel-form")
    expect(form.locator("select[name=by]")).to_be_hidden()
    expect(form.locator("select[name=x]")).to_be_visible()

    add_panel(page, "scatter", x="config.lr", y="summary.val/acc", color="config.optimizer")
    page.wait_for_url("**/?*panel=*")
    expect(drawn_panels(page)).to_have_count(1)
    scatter = page.locator('[data-panel-kind="scatter"] [data-query-panel]')
    expect(scatter.locator("svg.main-svg").first).to_be_visible()
    expect(scatter.locator(".scatterlayer path.point")).to_have_count(9)

    add_panel(page, "correlation", metric="summary.val/acc")
    page.wait_for_url("**/?*panel=*panel=*")
    assert parse_qs(urlsplit(page.url).query)["panel"] == [
        "scatter:config.lr:summary.val/acc:config.optimizer",
        "correlation:summary.val/acc",
    ]
    expect(drawn_panels(page)).to_have_count(2)
    correlation = page.locator('[data-panel-kind="correlation"] [data-query-panel]')
    expect(correlation.locator(".barlayer path")).to_have_count(2)  # lr and batch
    expect(page.locator('[data-panel-kind="correlation"]')).to_contain_text(
        "Not numeric, left out: optimizer."
    )
    shot(page, "1-scatter-and-correlation")

    # The table's query narrows the panels too (the table swaps by htmx, the panels with it).
    page.locator("#query").fill("config.optimizer = adamw")
    page.locator("#filters").get_by_role("button", name="Apply").click()
    expect(page.locator("#run-count")).to_have_text("3")
    expect(scatter_points := page.locator(".scatterlayer path.point")).to_have_count(3)
    expect(drawn_panels(page)).to_have_count(2)
    shot(page, "2-filtered")

    # A scatter point opens its run.
    # Plotly picks the point under the pointer when it moves there, then takes the click.
    point = scatter_points.nth(1)  # the second most recent run of the three: sweep-run-4
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 5, y - 5)
    page.mouse.move(x, y)
    expect(page.locator(".hoverlayer .hovertext")).to_contain_text("sweep-run-4")
    page.mouse.click(x, y)
    page.wait_for_url("**/runs/run4/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("sweep-run-4")


def test_a_bad_panel_says_so_and_phone_width_does_not_overflow(
    page, login, alice, sweep, browser_errors
):
    login(page.context, alice)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(
        sweep.get_absolute_url()
        + "?panel=bar:summary.val/acc:config.optimizer&panel=pie:summary.loss"
        + "&panel=parallel:config.lr,config.optimizer:summary.val/acc"
    )
    expect(drawn_panels(page)).to_have_count(2)
    expect(page.locator("#query-panels")).to_contain_text("“pie” is not a panel kind")
    parallel = page.locator('[data-panel-kind="parallel"] [data-query-panel]')
    expect(parallel.locator(".scatterlayer .trace path.js-line")).not_to_have_count(0)
    expect(parallel).not_to_contain_text("WebGL")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    shot(page, "3-phone")
    assert overflow <= 0
    # Removing the bad panel keeps the others.
    page.get_by_label("Remove the panel pie:summary.loss").click()
    expect(drawn_panels(page)).to_have_count(2)
    assert "pie" not in page.url
