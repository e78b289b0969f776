"""Logged histograms, audio, HTML and a plotly figure in a real browser: the bars of the last step,
the slider's other steps, the heat map over steps; the HTML frame stays sandboxed."""

import json

import pytest
from playwright.sync_api import expect

from runs.ingest import HISTORY_FILE
from runs.tests.test_media import upload
from runs.tests.test_media_histograms import log_histograms
from runs.tests.test_run_sections import send
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = "/tmp/hist-shots"
FIGURE = (
    b'{"data": [{"type": "scatter", "x": [1, 2, 3], "y": [2, 1, 3]}], "layout": {"width": 2000}}'
)


# Logged HTML whose script tries to reach the run page, its cookies and the network.
SANDBOXED_HTML = b"""<h1>report</h1><p id="parent"></p><p id="cookie"></p><p id="network"></p>
<script>
let parent = "isolated";
try { parent = window.parent.document.title; } catch (error) {}
document.getElementById("parent").textContent = parent;
let cookie = "no cookies";
try { cookie = document.cookie || "no cookies"; } catch (error) {}
document.getElementById("cookie").textContent = cookie;
document.getElementById("network").textContent = "offline";
fetch("/").then(() => { document.getElementById("network").textContent = "online"; },
                () => {});
</script>"""


def bundles_fetched(page):
    """The names of the plotly.js bundles the page requested."""
    names = page.evaluate("performance.getEntriesByType('resource').map((entry) => entry.name)")
    return [name.rsplit("/", 1)[1] for name in names if "/static/vendor/plotly" in name]


def bar_heights(page):
    """The y values plotly drew for the shown step's bars."""
    return page.evaluate("() => document.querySelector('[data-histogram]').data[0].y")


def test_the_histogram_draws_and_the_slider_shows_another_step(
    page, login, team, alice, browser_errors
):
    project = ProjectFactory(entity=team, creator=alice, name="nets")
    run = RunFactory(project=project, author=alice, run_id="trainer")
    log_histograms(run, [0, 10, 20])
    upload(run, "media/plotly/curve_0.plotly.json", FIGURE)
    upload(run, "media/html/page_0.html", SANDBOXED_HTML)
    send(
        run,
        HISTORY_FILE,
        [
            {
                "_step": 21,
                "curve": {"_type": "plotly-file", "path": "media/plotly/curve_0.plotly.json"},
                "page": {"_type": "html-file", "path": "media/html/page_0.html"},
            }
        ],
    )
    login(page.context, alice)

    page.goto(run.get_absolute_url() + "#media")

    histogram = page.locator("[data-histogram] .main-svg").first
    expect(histogram).to_be_visible()
    expect(page.locator("[data-histogram-heatmap] .heatmaplayer image")).to_have_count(1)
    assert bar_heights(page) == [20, 21, 22, 23]
    expect(page.locator("[data-plotly-figure] .scatterlayer .trace")).to_have_count(1)
    page.locator("#media").screenshot(path=f"{SHOTS}/media-histogram-last.png")

    panel = page.locator("[data-media-panel]", has=page.locator("[data-histogram]"))
    panel.locator("[data-media-slider]").fill("1")

    expect(panel.locator("[data-media-step]")).to_have_text("10")
    expect(panel.locator("[data-media-frame]")).to_have_attribute("data-step", "10")
    page.wait_for_function(
        "() => { const el = document.querySelector('[data-histogram]');"
        " return el && el.data && el.data[0].y[0] === 10; }"
    )
    assert bar_heights(page) == [10, 11, 12, 13]
    # The heat map stays, outside the swapped frame.
    expect(page.locator("[data-histogram-heatmap] .heatmaplayer image")).to_have_count(1)
    panel.screenshot(path=f"{SHOTS}/media-histogram-step-10.png")

    # The logged HTML shows and its script runs, but in an origin of its own: it cannot reach
    # the page around it, its cookies, or the network.
    frame = page.frame_locator(".html-frame iframe")
    expect(frame.locator("h1")).to_have_text("report")
    expect(frame.locator("#parent")).to_have_text("isolated")
    expect(frame.locator("#cookie")).to_have_text("no cookies")
    expect(frame.locator("#network")).to_have_text("offline")
    assert page.locator(".html-frame iframe").get_attribute("sandbox") == "allow-scripts"
    # The figure's width gives way to the panel's: the page does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=f"{SHOTS}/media-run-page.png", full_page=True)
    # Every chart here is drawn by the page's partial bundle: the full one is never fetched.
    assert bundles_fetched(page) == ["plotly-cartesian.min.js"]
    # The browser reports the refused request of the logged script; nothing else went wrong.
    refused = [error for error in browser_errors if "Content Security Policy" in error]
    assert refused and all("connect" in error.lower() for error in refused)
    for error in refused:
        browser_errors.remove(error)


def test_a_bad_figure_is_a_note(page, login, team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="nets")
    run = RunFactory(project=project, author=alice, run_id="broken")
    upload(run, "media/plotly/bad.plotly.json", b'{"data": "no traces"}')
    send(
        run,
        HISTORY_FILE,
        [{"_step": 0, "curve": {"_type": "plotly-file", "path": "media/plotly/bad.plotly.json"}}],
    )
    login(page.context, alice)

    page.goto(run.get_absolute_url() + "#media")

    expect(page.locator("[data-plotly-figure]")).to_have_text(
        "This figure cannot be drawn: it has no list of traces."
    )


def test_a_figure_the_partial_bundle_cannot_draw_is_drawn_by_the_full_one(
    page, login, team, alice, browser_errors
):
    project = ProjectFactory(entity=team, creator=alice, name="nets")
    run = RunFactory(project=project, author=alice, run_id="sunny")
    log_histograms(run, [0, 10])
    sunburst = {
        "data": [
            {
                "type": "sunburst",
                "labels": ["all", "cats", "dogs"],
                "parents": ["", "all", "all"],
                "values": [0, 3, 2],
            }
        ]
    }
    upload(run, "media/plotly/share_0.plotly.json", json.dumps(sunburst).encode())
    send(
        run,
        HISTORY_FILE,
        [
            {
                "_step": 11,
                "share": {"_type": "plotly-file", "path": "media/plotly/share_0.plotly.json"},
            }
        ],
    )
    login(page.context, alice)

    page.goto(run.get_absolute_url() + "#media")

    expect(page.locator("[data-plotly-figure] .sunburstlayer path.surface")).to_have_count(3)
    assert bundles_fetched(page) == ["plotly-cartesian.min.js", "plotly.min.js"]
    # The page's own charts stay with the partial bundle, and redraw with it.
    assert page.evaluate("!('sunburst' in window.Plotly.PlotSchema.get().traces)")
    expect(page.locator("[data-histogram] .main-svg").first).to_be_visible()
    panel = page.locator("[data-media-panel]", has=page.locator("[data-histogram]"))
    panel.locator("[data-media-slider]").fill("0")
    expect(panel.locator("[data-media-step]")).to_have_text("0")
    page.wait_for_function(
        "() => { const el = document.querySelector('[data-histogram]');"
        " return el && el.data && el.data[0].y[0] === 0; }"
    )
