"""A report printed (or saved as PDF) from the browser shows the report alone, its charts at the
paper's width; its "Download HTML" file opens offline with its charts drawn and asks nothing of
any server. Screenshots go to /tmp/reports-shots/."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from projects.services import project_create
from reports import services
from reports.models import ReportBlock
from runs.ingest import apply_file_stream, parse_file_stream
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/reports-shots")
PRINT_WIDTH = 660  # static/js/print_charts.js


@pytest.fixture
def report(team, alice, bob):
    project = project_create(entity=team, name="vision", creator=alice)
    for name, values in (
        ("calm-lake", [1.0 / (s + 1) for s in range(60)]),
        ("quick-fox", [2.0] * 60),
    ):
        run = RunFactory(project=project, name=name, author=bob, summary={"loss": values[-1]})
        lines = [json.dumps({"_step": step, "loss": value}) for step, value in enumerate(values)]
        payload = {"files": {"wandb-history.jsonl": {"offset": 0, "content": lines}}}
        apply_file_stream(run, parse_file_stream(payload))
    report = services.report_create(project=project, title="Print me", actor=bob)
    kind = ReportBlock.Kind
    services.block_add(report=report, kind=kind.TEXT, config={"markdown": "## Summary\n\nWords."})
    services.block_add(
        report=report, kind=kind.LINE_CHART, config={"metrics": ["loss"], "runs": {"query": ""}}
    )
    services.block_add(
        report=report,
        kind=kind.RUNS_TABLE,
        config={"runs": {"query": ""}, "columns": ["summary.loss"], "limit": 10},
    )
    services.report_publish(report=report, actor=bob)
    return report


def test_a_printed_report_is_the_report_alone(page, login, bob, report, browser_errors):
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(report.get_absolute_url())
    chart = page.locator(".report .chart")
    expect(chart).to_have_attribute("data-drawn", "1")
    for element in ("header.topbar", "nav.actions", "nav.crumbs", "#download-html"):
        expect(page.locator(element)).to_be_visible()
    assert chart.locator(".main-svg").first.bounding_box()["width"] > PRINT_WIDTH

    page.emulate_media(media="print")
    for element in ("header.topbar", "nav.actions", "nav.crumbs", "#download-html", ".modebar"):
        expect(page.locator(element)).to_be_hidden()
    expect(page.locator("#report-title")).to_have_text("Print me")
    expect(page.locator("#version-line")).to_contain_text("Version 1")
    expect(page.locator(".report-runs tbody tr")).to_have_count(2)
    expect(chart.locator(".main-svg").first).to_have_attribute("width", str(PRINT_WIDTH))
    assert (
        page.locator(".report-block").first.evaluate(
            "element => getComputedStyle(element).breakInside"
        )
        == "avoid"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "8-print-media.png", full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    (SHOTS / "8-print.pdf").write_bytes(pdf)

    page.emulate_media(media="screen")  # back at the page's width
    expect(chart.locator(".main-svg").first).not_to_have_attribute("width", str(PRINT_WIDTH))


def test_the_downloaded_copy_reads_offline(
    page, new_context, login, bob, report, tmp_path, browser_errors
):
    login(page.context, bob)
    page.goto(report.get_absolute_url())
    with page.expect_download() as download:
        page.get_by_role("link", name="Download HTML").click()
    assert download.value.suggested_filename == "print-me.html"
    copy = tmp_path / "print-me.html"
    download.value.save_as(copy)

    # Opened from disk in a fresh browser that may fetch nothing but the file itself.
    offline = new_context()
    asked = []
    offline.route(
        "**/*",
        lambda route: route.continue_() if route.request.url == copy.as_uri() else route.abort(),
    )
    offline.on("request", lambda request: asked.append(request.url))
    reader = offline.new_page()
    reader.set_viewport_size({"width": 1280, "height": 900})
    reader.goto(copy.as_uri())
    expect(reader.locator("#report-title")).to_have_text("Print me")
    expect(reader.locator(".report .chart")).to_have_attribute("data-drawn", "1")
    expect(reader.locator(".report .chart .legend")).to_contain_text("calm-lake")
    expect(reader.locator(".report-runs tbody tr")).to_have_count(2)
    reader.screenshot(path=SHOTS / "9-offline-copy.png", full_page=True)
    assert asked == [copy.as_uri()]
