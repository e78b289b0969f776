"""Reports in a real browser: write a report with a text block and two live panels (a line
chart of a query's runs and a runs table), reorder and edit blocks with htmx, publish, and
read it as another member. Screenshots go to /tmp/reports-shots/."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from projects.services import project_create
from reports.models import Report
from runs.ingest import apply_file_stream, parse_file_stream
from teams.models import Role
from tests.factories import RunFactory, UserFactory, add_member

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/reports-shots")


def logged(run, values):
    lines = [json.dumps({"_step": step, "loss": value}) for step, value in enumerate(values)]
    apply_file_stream(
        run, parse_file_stream({"files": {"wandb-history.jsonl": {"offset": 0, "content": lines}}})
    )
    return run


@pytest.fixture
def vision(team, alice, bob):
    project = project_create(entity=team, name="vision", creator=alice)
    for name, tags, values in (
        ("calm-lake", ["base"], [1.0 / (step + 1) for step in range(60)]),
        ("quick-fox", ["base"], [2.0 / (step + 1) for step in range(60)]),
        ("other-run", [], [5.0] * 60),
    ):
        run = RunFactory(project=project, name=name, author=bob, tags=tags)
        run.summary = {"loss": values[-1]}
        run.save(update_fields=["summary"])
        logged(run, values)
    return project


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def add_block(page, kind):
    adder = page.locator("#add-block")
    adder.wait_for()  # the editor is the current document ...
    page.wait_for_load_state()  # ... and htmx has bound the form (else it submits as a page)
    adder.get_by_label("Add").select_option(kind)
    adder.get_by_role("button", name="Add block").click()
    return page.locator("#new-block-slot form")


def blocks(page):
    return page.locator("#report-blocks > li.editor-block")


def test_write_reorder_publish_and_read_a_report(
    page, new_context, login, bob, team, vision, browser_errors
):
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(vision.get_absolute_url())
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.locator("#no-reports")).to_be_visible()
    page.get_by_label("Title").fill("Learning-rate findings")
    page.get_by_role("button", name="New report").click()
    expect(page.locator("h1")).to_have_text("Edit report")
    shot(page, "1-editor-empty")

    form = add_block(page, "text")
    form.get_by_label("Markdown").fill("## Summary\n\nThe **base** runs converge.")
    form.get_by_role("button", name="Save block").click()
    expect(blocks(page)).to_have_count(1)
    expect(blocks(page).first.locator("h2")).to_have_text("Summary")

    form = add_block(page, "line_chart")
    form.get_by_label("Metrics").fill("loss")
    form.get_by_label("Runs where").fill('tags has "base" and')  # a mistake first
    form.get_by_role("button", name="Save block").click()
    expect(page.locator("#new-block-slot")).to_contain_text("The query has a mistake")
    shot(page, "2-query-error")
    page.locator("#new-block-slot").get_by_label("Runs where").fill('tags has "base"')
    page.locator("#new-block-slot").get_by_role("button", name="Save block").click()
    expect(blocks(page)).to_have_count(2)
    chart = blocks(page).nth(1).locator(".chart")
    expect(chart).to_have_attribute("data-drawn", "1")
    expect(chart.locator(".legend")).to_contain_text("calm-lake")
    expect(chart.locator(".legend")).not_to_contain_text("other-run")

    form = add_block(page, "runs_table")
    form.get_by_label("Columns").fill("summary.loss")
    form.get_by_label("Sort").fill("summary.loss")
    form.get_by_role("button", name="Save block").click()
    expect(blocks(page)).to_have_count(3)
    rows = blocks(page).nth(2).locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("calm-lake")
    shot(page, "3-editor-three-blocks")

    # The table moves above the chart; the text is edited in place.
    blocks(page).nth(2).get_by_role("button", name="Move up").click()
    expect(blocks(page).nth(1)).to_have_attribute("data-kind", "runs_table")
    expect(blocks(page).nth(2).locator(".chart")).to_have_attribute("data-drawn", "1")
    blocks(page).first.get_by_role("link", name="Edit").click()
    page.locator("#report-blocks").get_by_label("Markdown").fill(
        "## Summary\n\nThe **base** runs converge; see the [runs](https://example.org/runs)."
    )
    page.locator("#report-blocks").get_by_role("button", name="Save block").click()
    expect(blocks(page).first).to_contain_text("see the runs")
    shot(page, "4-editor-reordered")

    page.get_by_label("Note").fill("First findings")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#version-line")).to_contain_text("Version 1")
    shot(page, "5-published")
    report = Report.objects.get()
    assert [block["kind"] for block in report.versions.get().blocks] == [
        "text",
        "runs_table",
        "line_chart",
    ]

    erin = UserFactory(username="erin")
    add_member(team, erin, Role.MEMBER)
    reader = new_context().new_page()
    login(reader.context, erin)
    reader.set_viewport_size({"width": 1280, "height": 900})
    reader.goto(report.get_absolute_url())
    expect(reader.locator("#report-title")).to_have_text("Learning-rate findings")
    expect(reader.locator(".report-text a")).to_have_attribute("rel", "noopener noreferrer")
    expect(reader.locator(".report-runs tbody tr")).to_have_count(3)
    expect(reader.locator(".chart")).to_have_attribute("data-drawn", "1")
    expect(reader.get_by_role("link", name="Edit")).to_have_count(0)
    shot(reader, "6-read-by-erin")
    reader.get_by_role("link", name="History").click()
    expect(reader.locator("#version-1")).to_contain_text("3 added, 0 removed, 0 edited")
    expect(reader.locator("#version-1")).to_contain_text("First findings")
    shot(reader, "7-history")
