"""Charts logged with wandb.plot presets in a real browser: plotly draws each one from the
figure endpoint under the strict CSP, and a chart type not drawn here shows its table."""

import pytest
from playwright.sync_api import expect

from runs.tests.preset_charts import PRESETS, log_chart, log_presets
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chart_run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="classifier")
    run = RunFactory(project=project, author=alice, run_id="judge", config={}, summary={})
    log_presets(run)
    _, fields, _, columns, rows = PRESETS["accuracy"]
    log_chart(run, "radar", "my-team/radar/v2", fields, {"title": "Radar"}, columns, rows)
    return run


def draw_all(page):
    """Scroll to each chart (they load as they come near the viewport) until plotly drew it."""
    charts = page.locator("[data-custom-chart]")
    expect(charts).to_have_count(len(PRESETS) + 1)
    for index in range(charts.count()):
        charts.nth(index).scroll_into_view_if_needed()
        expect(charts.nth(index)).to_have_attribute("data-drawn", "1")
    return charts


def test_each_preset_is_drawn_by_plotly(page, login, chart_run, alice, tmp_path):
    login(page.context, alice)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(chart_run.get_absolute_url() + "#custom-charts")

    charts = draw_all(page)
    for index in range(charts.count()):
        expect(charts.nth(index).locator("svg.main-svg").first).to_be_visible()
    section = page.locator("#custom-charts")
    captions = section.locator("figcaption strong")
    expect(captions).to_have_text(
        [
            "Accuracy per class",
            "Confusions",
            "Depth by width",
            "Heights",
            "Loss by split",
            "Precision and recall",
            "Radar",
            "ROC",
            "Two waves",
        ]
    )
    confusions = section.locator("[data-custom-chart-panel]").nth(1)
    # The heat map prints its counts in the cells.
    expect(confusions.locator("text", has_text="3").first).to_be_visible()
    expect(section.locator(".legendtext", has_text="valid")).to_be_visible()
    radar = section.locator("[data-custom-chart-panel]").nth(6)
    expect(radar.locator("[data-custom-chart-note]")).to_have_text(
        "The custom chart type my-team/radar/v2 is not drawn here; its table is shown."
    )
    expect(radar.locator(".table .cell-text", has_text="bird")).to_be_visible()
    section.screenshot(path=tmp_path / "custom-charts.png")


def test_charts_fit_a_phone(page, login, chart_run, alice, tmp_path):
    login(page.context, alice)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(chart_run.get_absolute_url() + "#custom-charts")
    draw_all(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#custom-charts [data-custom-chart-panel]").nth(1).screenshot(
        path=tmp_path / "custom-charts-phone.png"
    )
