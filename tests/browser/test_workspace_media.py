"""Media in the project workspace, in a real browser: two runs' images of one key side by side,
one slider that moves both, the rows following the runs ticked in the table; and a run page with
many media panels at phone width does not scroll sideways."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from runs.tests.test_media import log_images
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/workspace-shots"))
PHONE = {"width": 390, "height": 844}


def images_loaded(page, count):
    page.wait_for_function(
        "(count) => { const images = [...document.querySelectorAll("
        "'[data-workspace-media-cells] img')];"
        " return images.length === count && images.every((i) => i.complete && i.naturalWidth); }",
        arg=count,
    )


def test_one_slider_moves_both_runs_images(page, login, team, alice, browser_errors):
    SHOTS.mkdir(exist_ok=True)
    project = ProjectFactory(entity=team, creator=alice, name="gan")
    painter = RunFactory(project=project, author=alice, run_id="painter", name="painter")
    sketcher = RunFactory(project=project, author=alice, run_id="sketcher", name="sketcher")
    log_images(painter, [0, 5, 10])
    log_images(sketcher, [0, 4, 8])
    login(page.context, alice)

    page.goto(project.get_absolute_url())

    row = page.locator("[data-workspace-media-row]")
    expect(row).to_have_count(1)
    cells = row.locator(".workspace-media-cell")
    expect(cells).to_have_count(2)
    images_loaded(page, 2)
    # The newest run first, as in the table; each at its own last step.
    expect(cells.nth(0).locator(".workspace-media-run a")).to_have_text("sketcher")
    expect(cells.nth(0).locator("figcaption")).to_have_text("sample at 8")
    expect(cells.nth(1).locator("figcaption")).to_have_text("sample at 10")
    expect(row.locator("[data-workspace-media-step]")).to_have_text("10")
    dot = cells.nth(0).locator(".run-dot")
    assert dot.evaluate("d => getComputedStyle(d).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.locator("#workspace").screenshot(path=SHOTS / "workspace-media-last.png")

    # Steps of the row: 0 4 5 8 10; the third is 5.
    row.locator("[data-workspace-media-slider]").fill("2")

    expect(row.locator("[data-workspace-media-step]")).to_have_text("5")
    expect(cells.nth(0).locator("figcaption")).to_have_text("sample at 4")
    expect(cells.nth(1).locator("figcaption")).to_have_text("sample at 5")
    expect(cells.nth(0).locator(".workspace-media-run .muted")).to_have_text("step 4")
    images_loaded(page, 2)
    page.locator("#workspace").screenshot(path=SHOTS / "workspace-media-step5.png")

    row.locator("[data-workspace-media-slider]").fill("0")
    expect(cells.nth(1).locator("figcaption")).to_have_text("sample at 0")
    expect(cells.nth(0).locator("figcaption")).to_have_text("sample at 0")

    # Ticking one run in the table leaves only its media.
    page.locator('form#bulk input[name="run"][value="painter"]').check()
    expect(page.locator(".workspace-media-cell")).to_have_count(1)
    expect(page.locator(".workspace-media-run a")).to_have_text("painter")
    expect(page.locator(".workspace-media-cell figcaption")).to_have_text("sample at 10")


def test_a_run_page_with_many_media_panels_fits_a_phone(page, login, team, alice, browser_errors):
    SHOTS.mkdir(exist_ok=True)
    project = ProjectFactory(entity=team, creator=alice, name="gallery")
    run = RunFactory(project=project, author=alice, run_id="gallery", name="a-long-run-name-1234")
    for number in range(12):
        log_images(run, [0, 1, 2], key=f"samples/validation-grid-{number:02d}-with-a-long-key")
    login(page.context, alice)
    page.set_viewport_size(PHONE)

    page.goto(run.get_absolute_url() + "#media")

    expect(page.locator("[data-media-panel]")).to_have_count(12)
    # The images load lazily: those in view, at least the first.
    page.wait_for_function("() => document.querySelector('#media img').naturalWidth > 0")
    width = page.evaluate("document.documentElement.scrollWidth")
    page.locator("#media").screenshot(path=SHOTS / "run-page-media-phone.png")
    assert width <= PHONE["width"], f"the run page is {width} px wide"

    page.goto(project.get_absolute_url())
    expect(page.locator(".workspace-media-cell")).to_have_count(12)
    page.wait_for_function(
        "() => document.querySelector('[data-workspace-media-cells] img').naturalWidth > 0"
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    page.locator("#workspace-media").screenshot(path=SHOTS / "workspace-media-phone.png")
    assert width <= PHONE["width"], f"the project page is {width} px wide"
