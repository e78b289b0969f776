"""Charts in a real browser, for runs logged by the real wandb client: the run page draws every
metric and the system metrics, and the project workspace overlays the runs."""

import json

import pytest
from playwright.sync_api import expect

from projects.services import project_create
from runs.ingest import (
    CONSOLE_FILE,
    EVENTS_FILE,
    HISTORY_FILE,
    apply_file_stream,
    parse_file_stream,
)
from runs.models import Run
from tests.factories import api_key_for
from tests.wandb_client import WandbClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def logged_runs(live_server, tmp_path, team, alice):
    client = WandbClient(live_server.url, tmp_path)
    key = api_key_for(alice, "browser test")
    result, completed = client.run(
        "log_curves.py", "example-team", "curves", "first", "second", key=key
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [Run.objects.get(run_id=run_id) for run_id in result["ids"]]


def test_a_run_logged_by_the_client_shows_its_charts(
    page, login, logged_runs, alice, tmp_path, live_server
):
    login(page.context, alice)
    run = logged_runs[0]

    page.goto(run.get_absolute_url())

    loss = page.locator('[data-chart][data-key="train/loss"]')
    expect(loss).to_have_attribute("data-loaded", "300")
    expect(loss.locator(".main-svg").first).to_be_visible()
    expect(loss.locator(".scatterlayer path.js-line").first).to_be_visible()
    expect(page.locator('[data-chart][data-key="val/accuracy"]')).to_have_attribute(
        "data-loaded", "300"
    )
    # System metrics arrive from the client's monitor while the run is live.
    system = page.locator("#system [data-chart]")
    expect(system.first).to_have_attribute("data-loaded", "1")
    expect(page.locator("#console")).to_contain_text("epoch done for first")
    expect(page.locator("#code a[href*='github.com/example/resnet/commit/']")).to_be_visible()
    page.screenshot(path=tmp_path / "run-page.png", full_page=True)
    # Metric lines need only plotly.js's smallest bundle: nothing more is fetched.
    scripts = page.evaluate("performance.getEntriesByType('resource').map((entry) => entry.name)")
    assert [name for name in scripts if "/vendor/" in name] == [
        f"{live_server.url}/static/vendor/plotly-basic.min.js"
    ]

    # Relative time on the x axis, and smoothing, redraw without a round trip.
    page.select_option("[data-chart-x]", "runtime")
    expect(loss.locator(".xtitle")).to_have_text("Relative time (s)")
    page.locator("[data-chart-smoothing]").fill("0.9")
    expect(loss.locator(".scatterlayer path.js-line")).to_have_count(2)

    page.locator("#console input[type=search]").fill("no such text")
    expect(page.locator("#console-lines")).to_contain_text("No line contains")


def test_the_workspace_overlays_the_runs_and_keeps_its_panels(
    page, login, logged_runs, alice, tmp_path
):
    login(page.context, alice)
    project = logged_runs[0].project

    page.goto(project.get_absolute_url())

    panel = page.locator('[data-workspace-panel][data-key="train/loss"]')
    expect(panel).to_have_attribute("data-loaded", "600")  # two runs, 300 points each
    expect(panel.locator(".scatterlayer path.js-line")).to_have_count(2)
    expect(panel.locator(".legendtext")).to_have_text(["second", "first"])
    page.screenshot(path=tmp_path / "workspace.png", full_page=True)

    # Ticking one run charts that run alone.
    page.locator(f'input[name="run"][value="{logged_runs[0].run_id}"]').check()
    expect(panel).to_have_attribute("data-loaded", "300")

    # Remove a panel, move one: the layout is saved for alice.
    page.get_by_role("button", name="Remove the train/loss panel").click()
    expect(page.locator('[data-workspace-panel][data-key="train/loss"]')).to_have_count(0)
    page.reload()
    expect(page.locator("[data-workspace-panel]")).to_have_count(1)
    expect(page.locator("[data-workspace-panel]")).to_have_attribute("data-key", "val/accuracy")


# Nothing on a chart page leaves the site


@pytest.fixture
def ingested_run(team, alice):
    """A finished run with metrics, system metrics and console output, without the client."""
    project = project_create(entity=team, name="vision", creator=alice)
    run = Run.objects.create(project=project, author=alice, run_id="r1", name="bright-sun")
    rows = [
        {"_step": step, "_runtime": step * 2.0, "train/loss": 1 / (step + 1)} for step in range(50)
    ]
    events = [
        {
            "_runtime": i * 2.0,
            "system.gpu.0.temp": 60.0 + i,
            "system.proc.memory.rssMB": 4000.0,
            "system.proc.memory.availableMB": 22643.0 - 10 * i,
        }
        for i in range(10)
    ]
    # As the client streams them: the time printed first, "ERROR " before it on stderr.
    console = [
        f"2026-12-03T18:51:{i:02}.025236 epoch {i}: loss {1 / (i + 1):.3f}\n" for i in range(11)
    ]
    console.append("ERROR 2026-12-03T18:52:00.5 RuntimeError: out of memory\n")
    files = {
        HISTORY_FILE: {"offset": 0, "content": [json.dumps(row) for row in rows]},
        EVENTS_FILE: {"offset": 0, "content": [json.dumps(row) for row in events]},
        CONSOLE_FILE: {"offset": 0, "content": console},
    }
    apply_file_stream(run, parse_file_stream({"files": files}))
    Run.objects.filter(pk=run.pk).update(state=Run.State.FINISHED, runtime=2389.0)
    return Run.objects.get(pk=run.pk)


OFF_SITE_BUTTONS = [
    '.modebar-btn[data-title*="Cloud"]',
    '.modebar-btn[data-title*="Share"]',
    '.modebar-btn[data-title*="Chart Studio"]',
    '.modebar-btn[data-title*="Plotly"]',
    ".modebar-btn--logo",
    ".modebar a",
]


def assert_nothing_leaves_the_site(page, live_server):
    buttons = page.locator(".modebar-btn")
    expect(buttons.first).to_be_attached()  # the mode bar is there, so the checks mean something
    for selector in OFF_SITE_BUTTONS:
        expect(page.locator(selector)).to_have_count(0)
    origin = live_server.url
    links = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    assert links
    assert [link for link in links if not link.startswith(origin + "/")] == []


def test_run_page_charts_offer_nothing_that_leaves_the_site(
    page, login, ingested_run, alice, live_server, tmp_path
):
    login(page.context, alice)

    page.goto(ingested_run.get_absolute_url())

    expect(page.locator('[data-chart][data-key="train/loss"]')).to_have_attribute(
        "data-loaded", "50"
    )
    temperature = page.locator('[data-chart][data-key="system.gpu.0.temp"]')
    expect(temperature).to_have_attribute("data-loaded", "10")
    expect(temperature.locator(".ytitle")).to_have_text("°C")
    expect(page.locator("#system figcaption").first).to_have_text("GPU 0 temperature (°C)")
    assert_nothing_leaves_the_site(page, live_server)
    # One logged console line is one line on the screen.
    lines = page.locator("#console-lines .console-line")
    expect(lines).to_have_count(12)
    first, second = lines.nth(0).bounding_box(), lines.nth(1).bounding_box()
    assert second["y"] - first["y"] == pytest.approx(first["height"], abs=1)
    assert first["height"] < 24
    # The program's text, the time on hover, stderr in its own colour.
    expect(lines.nth(0)).to_have_text("1epoch 0: loss 1.000")
    expect(lines.nth(0)).to_have_attribute("title", "2026-12-03 18:51:00.025236 UTC")
    expect(lines.nth(11)).to_have_class("console-line console-stderr")
    assert lines.nth(11).evaluate("line => getComputedStyle(line).color") != lines.nth(0).evaluate(
        "line => getComputedStyle(line).color"
    )
    # Megabytes tick as 22,640, not 22.64k.
    memory = page.locator('[data-chart][data-key="system.proc.memory.availableMB"]')
    expect(memory).to_have_attribute("data-loaded", "10")
    ticks = memory.locator(".ytick text").all_text_contents()
    assert ticks and all("k" not in tick for tick in ticks) and any("," in t for t in ticks)
    page.screenshot(path=tmp_path / "run-page.png", full_page=True)


def test_workspace_charts_offer_nothing_that_leaves_the_site(
    page, login, ingested_run, alice, live_server
):
    login(page.context, alice)

    page.goto(ingested_run.project.get_absolute_url())

    expect(page.locator('[data-workspace-panel][data-key="train/loss"]')).to_have_attribute(
        "data-loaded", "50"
    )
    assert_nothing_leaves_the_site(page, live_server)


def test_an_empty_project_shows_how_to_log_to_it(page, login, team, alice, tmp_path):
    project = project_create(entity=team, name="fresh", creator=alice)
    login(page.context, alice)

    page.goto(project.get_absolute_url())

    expect(page.locator("#log-script")).to_contain_text(
        'wandb.init(entity="example-team", project="fresh")'
    )
    expect(page.locator("#log-env")).to_contain_text("export WANDB_BASE_URL=http")
    expect(page.get_by_role("link", name="Settings → API keys")).to_be_visible()
    page.screenshot(path=tmp_path / "empty-project.png", full_page=True)
