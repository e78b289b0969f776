"""A view-only link to a report, in a real browser: a member writes a report with text and
three live panels (two line charts of different metrics and a runs table), publishes it and
makes a link on the Share page; a fresh anonymous browser reads the report through the link
and nothing else of the project; revoked, the link is a 404. Screenshots go to
/tmp/reports-shots/."""

import json

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from projects.services import project_create
from reports.models import Report, ReportShareLink
from runs.ingest import apply_file_stream, parse_file_stream
from tests.factories import RunFactory

from .test_reports import add_block, blocks, shot

pytestmark = pytest.mark.django_db(transaction=True)

FAILED = "Failed to load resource: the server responded with a status of "


@pytest.fixture
def vision(team, alice, bob):
    project = project_create(entity=team, name="vision", creator=alice)
    for name, scale in (("calm-lake", 1.0), ("quick-fox", 2.0)):
        run = RunFactory(project=project, name=name, author=bob)
        lines = [
            json.dumps({"_step": step, "loss": scale / (step + 1), "acc": 1 - scale / (step + 2)})
            for step in range(40)
        ]
        apply_file_stream(
            run,
            parse_file_stream({"files": {"wandb-history.jsonl": {"offset": 0, "content": lines}}}),
        )
        run.summary = {"loss": scale / 40}
        run.save(update_fields=["summary"])
    return project


def _chart(page, metric):
    form = add_block(page, "line_chart")
    form.get_by_label("Metrics").fill(metric)
    form.get_by_role("button", name="Save block").click()


def test_a_view_only_link_shows_the_report_and_nothing_else(
    page, new_context, login, bob, vision, browser_errors, live_server
):
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(reverse("reports:list", args=[vision.entity.name, vision.name]))
    page.get_by_label("Title").fill("Shared findings")
    page.get_by_role("button", name="New report").click()
    form = add_block(page, "text")
    form.get_by_label("Markdown").fill("Both runs **converge**.")
    form.get_by_role("button", name="Save block").click()
    expect(blocks(page)).to_have_count(1)
    _chart(page, "loss")
    expect(blocks(page)).to_have_count(2)
    _chart(page, "acc")
    expect(blocks(page)).to_have_count(3)
    form = add_block(page, "runs_table")
    form.get_by_label("Columns").fill("summary.loss")
    form.get_by_role("button", name="Save block").click()
    expect(blocks(page)).to_have_count(4)
    expect(page.locator(".chart[data-drawn='1']")).to_have_count(2)

    # The team is private: its reports cannot be public, and the form says why.
    page.get_by_label("Public: anyone, while the team is not private").check()
    page.get_by_role("button", name="Save who may read it").click()
    expect(page.locator("#visibility")).to_contain_text("is private")
    shot(page, "share-1-visibility-refused")

    # Not published yet: the Share page makes no link.
    page.locator(".page-head").get_by_role("link", name="Share").click()
    expect(page.locator("#not-published")).to_be_visible()
    page.get_by_role("link", name="Edit").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#version-line")).to_contain_text("Version 1")

    page.get_by_role("navigation", name="Report").get_by_role("link", name="Share").click()
    page.get_by_label("Label").fill("for the reviewers")
    page.get_by_label("Works for").select_option("30")
    page.get_by_role("button", name="Create link").click()
    link_url = page.locator("#secret").inner_text().strip()
    assert link_url.startswith(live_server.url + "/shared/reports/")
    expect(page.locator("#share-links tbody tr")).to_have_count(1)
    expect(page.locator("#share-links")).to_contain_text("for the reviewers")
    expect(page.locator("#share-links")).to_contain_text("active")
    shot(page, "share-2-link-made")
    token = link_url.rstrip("/").rsplit("/", 1)[1]
    assert not ReportShareLink.objects.filter(token_hash=token).exists()

    # A fresh browser, signed in as nobody.
    reader = new_context().new_page()
    reader.set_viewport_size({"width": 1280, "height": 900})
    response = reader.goto(link_url)
    assert response.status == 200
    expect(reader.locator("#report-title")).to_have_text("Shared findings")
    expect(reader.locator(".report-text")).to_contain_text("Both runs converge.")
    expect(reader.locator(".chart[data-drawn='1']")).to_have_count(2)
    expect(reader.locator(".chart svg.main-svg").first).to_be_visible()
    expect(reader.locator(".report-runs tbody tr")).to_have_count(2)
    expect(reader.locator(".report-runs")).to_contain_text("calm-lake")
    # Nothing leads into the project: the one link is the download, through the link itself.
    expect(reader.locator("main a")).to_have_count(1)
    expect(reader.locator("#download-html")).to_have_attribute(
        "href", link_url.removeprefix(live_server.url) + "export.html"
    )
    expect(reader.locator(".crumbs")).to_have_count(0)
    shot(reader, "share-3-read-through-link")

    report = Report.objects.get()
    run = vision.runs.get(name="calm-lake")
    closed = [
        vision.get_absolute_url(),
        reverse("runs:detail", args=[vision.entity.name, vision.name, run.run_id]),
        report.get_absolute_url(),
    ]
    for path in closed:
        assert reader.goto(live_server.url + path).status == 404, path
    assert ReportShareLink.objects.get().last_used_at is not None

    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#share-links")).to_contain_text("revoked")
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    shot(page, "share-4-revoked")
    assert reader.goto(link_url).status == 404
    # The refused form's 400 and the 404s asked for above are the browser's only complaints.
    expected = [
        ("400", reverse("reports:visibility", args=[vision.entity.name, vision.name, report.key])),
        *(("404", path) for path in [*closed, f"/shared/reports/{token}/"]),
    ]
    browser_errors[:] = [
        error
        for error in browser_errors
        if not any(
            error.startswith(FAILED + status) and f"{path})" in error for status, path in expected
        )
    ]
