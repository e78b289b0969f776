"""Logged images in a real browser: the run page draws the sample of the last step, and the step
slider shows the others."""

import pytest
from playwright.sync_api import expect

from runs.tests.test_media import log_images
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_step_slider_moves_through_the_logged_images(page, login, team, alice, tmp_path):
    project = ProjectFactory(entity=team, creator=alice, name="gan")
    run = RunFactory(project=project, author=alice, run_id="painter")
    log_images(run, [0, 5, 10])
    login(page.context, alice)

    page.goto(run.get_absolute_url() + "#media")

    panel = page.locator("[data-media-panel]")
    shown = panel.locator("[data-media-frame]:visible img")
    expect(shown).to_have_count(1)
    page.wait_for_function(
        "() => { const img = document.querySelector('[data-media-frame]:not([hidden]) img');"
        " return img && img.complete && img.naturalWidth > 0; }"
    )
    expect(panel.locator("[data-media-step]")).to_have_text("10")
    expect(panel.locator("[data-media-frame]:visible figcaption")).to_have_text("sample at 10")
    last_src = shown.get_attribute("src")
    page.screenshot(path=tmp_path / "media-last-step.png", full_page=True)

    panel.locator("[data-media-slider]").fill("0")

    expect(panel.locator("[data-media-step]")).to_have_text("0")
    expect(panel.locator("[data-media-frame]:visible figcaption")).to_have_text("sample at 0")
    assert shown.get_attribute("src") != last_src
    page.wait_for_function(
        "() => { const img = document.querySelector('[data-media-frame]:not([hidden]) img');"
        " return img && img.complete && img.naturalWidth === 40; }"
    )
    page.locator("#media").screenshot(path=tmp_path / "media-first-step.png")
    # The thumbnail opens the full-size file.
    href = panel.locator("[data-media-frame]:visible a").get_attribute("href")
    assert href.endswith("/files/media/images/samples_0_0123456789abcdef0123.png")
