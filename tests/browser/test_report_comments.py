"""Comments on a report in a real browser: a member opens a panel's thread and comments on
it, then comments on the report, each swapped in place by htmx; another member reads both
and deletes nothing of theirs. Screenshots go to /tmp/reports-shots/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from projects.services import project_create
from reports import services
from reports.models import ReportComment
from teams.models import Role
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/reports-shots")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def report(team, alice):
    project = project_create(entity=team, name="vision", creator=alice)
    report = services.report_create(project=project, title="Findings", actor=alice)
    services.block_add(report=report, kind="text", config={"markdown": "The runs converge."})
    services.block_add(report=report, kind="runs_table", config={"runs": {"query": ""}})
    services.report_publish(report=report, actor=alice)
    return report


def test_members_comment_on_a_panel_and_on_the_report(
    page, new_context, login, bob, team, report, browser_errors
):
    table_key = report.blocks.get(kind="runs_table").key
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(report.get_absolute_url())
    panel = page.locator(f"#block-{table_key}")
    panel.get_by_role("link", name="Comments (0)").click()
    thread = panel.locator(f"#thread-{table_key}")
    expect(thread).to_contain_text("No comments yet.")
    thread.get_by_label("Comment on this panel").fill("Where are the **runs**?")
    thread.get_by_role("button", name="Comment", exact=True).click()
    expect(thread.locator(".comment")).to_have_count(1)
    expect(thread.locator(".comment strong").last).to_have_text("runs")
    expect(thread).to_contain_text("Comments (1)")

    report_thread = page.locator("#thread-report")
    report_thread.get_by_label("Comment on the report").fill("")
    report_thread.get_by_role("button", name="Comment", exact=True).click()
    # The browser asks for a body before anything is sent.
    expect(report_thread.locator(".comment")).to_have_count(0)
    report_thread.get_by_label("Comment on the report").fill("Ship it.")
    report_thread.get_by_role("button", name="Comment", exact=True).click()
    expect(report_thread.locator(".comment")).to_have_count(1)
    expect(report_thread).to_contain_text("Ship it.")
    expect(report_thread.get_by_label("Comment on the report")).to_have_value("")
    assert page.url.endswith(report.get_absolute_url())  # swapped in place, no navigation
    shot(page, "8-comments-written")
    assert ReportComment.objects.filter(author=bob).count() == 2

    erin = UserFactory(username="erin")
    add_member(team, erin, Role.MEMBER)
    reader = new_context().new_page()
    login(reader.context, erin)
    reader.set_viewport_size({"width": 1280, "height": 900})
    reader.goto(report.get_absolute_url())
    expect(reader.locator("#thread-report .comment")).to_contain_text("Ship it.")
    # Not hers: no delete button.
    expect(reader.locator("#thread-report").get_by_role("button", name="Delete")).to_have_count(0)
    reader_panel = reader.locator(f"#block-{table_key}")
    reader_panel.get_by_role("link", name="Comments (1)").click()
    expect(reader_panel.locator(".comment")).to_contain_text("Where are the runs?")
    expect(reader_panel.locator(".comment")).to_contain_text("bob")
    shot(reader, "9-comments-read-by-erin")

    # bob deletes his comment on the report; the thread swaps without it.
    page.locator("#thread-report").get_by_role("button", name="Delete").click()
    expect(page.locator("#thread-report .comment")).to_have_count(0)
    expect(page.locator("#thread-report")).to_contain_text("Comments (0)")
    assert ReportComment.objects.filter(author=bob).count() == 1
