"""The demo report is written through the same services as the editor's, over the demo runs'
logged curves, so the demo's reports page, its home and search show a real report."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reports.models import Report


@pytest.mark.django_db
def test_the_demo_report_is_published_and_reads_the_demo_runs(client):
    call_command("load_demo_data", stdout=StringIO())
    call_command("load_demo_reports", stdout=StringIO())

    report = Report.objects.get()
    assert report.versions.count() == 1
    assert [block.kind for block in report.blocks.order_by("position")] == [
        "text",
        "line_chart",
        "runs_table",
        "leaderboard",
        "scatter",
        "parallel_coordinates",
    ]
    client.login(username="alice", password="teamsite-demo")
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Learning-rate sweep: week 1" in page and "lowest validation loss" in page
    assert "val/loss" in page and "config.lr" in page
    assert "Leaderboard: summary.val/loss, lowest first" in page
    assert "cannot be read" not in page and "report-leaderboard" in page
    scatter, parallel = (
        block
        for block in client.get(report.get_absolute_url()).context["blocks"]
        if block.kind in ("scatter", "parallel_coordinates")
    )
    assert scatter.figure and parallel.figure
    assert "Learning-rate sweep: week 1" in client.get("/").content.decode()

    call_command("load_demo_reports", stdout=StringIO())  # safe to rerun
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_the_demo_report_needs_the_demo_data():
    with pytest.raises(CommandError, match="load_demo_data"):
        call_command("load_demo_reports", stdout=StringIO())
