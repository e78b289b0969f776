"""Freezing a report's run sets: its query panels keep the runs they matched, whatever is
logged later, until unfrozen; publishing carries the freeze; editing a query drops it."""

import pytest
from django.urls import reverse

from reports import services
from reports.models import ReportBlock
from reports.panels import render_blocks

Kind = ReportBlock.Kind
QUERY = {"query": 'tags has "sweep"'}


def url(name, report):
    project = report.project
    return reverse(f"reports:{name}", args=[project.entity.name, project.name, report.key])


@pytest.fixture
def report(project, bob, make_run, log):
    for index in range(3):
        run = make_run(run_id=f"r{index}", tags=["sweep"], summary={"acc": index / 10})
        run.config = {"lr": index / 100}
        run.save(update_fields=["config"])
        log(run, {"loss": [1.0, 0.5]})
    report = services.report_create(project=project, title="Sweep", actor=bob)
    for kind, config in [
        (Kind.LINE_CHART, {"metrics": ["loss"], "runs": QUERY}),
        (Kind.RUNS_TABLE, {"runs": QUERY, "columns": ["summary.acc"]}),
        (Kind.LEADERBOARD, {"runs": QUERY, "metric": "summary.acc"}),
        (Kind.SCATTER, {"runs": QUERY, "x": "config.lr", "y": "summary.acc"}),
        (Kind.PARALLEL_COORDINATES, {"runs": QUERY, "columns": ["config.lr", "summary.acc"]}),
        (Kind.RUNS_TABLE, {"runs": {"ids": ["r0"]}}),
        (Kind.TEXT, {"markdown": "words"}),
    ]:
        services.block_add(report=report, kind=kind, config=config)
    return report


def shown(project, report) -> list:
    """What each panel of the draft shows, as comparable values."""
    blocks = render_blocks(project, [block.snapshot() for block in report.blocks.all()])
    return [
        (
            block.kind,
            [row["run"].run_id for row in block.rows],
            [trace.get("x") for trace in (block.figure or {}).get("data", [])],
        )
        for block in blocks
    ]


def test_a_frozen_report_keeps_its_runs_until_unfrozen(project, report, bob, make_run, log):
    before = shown(project, report)
    assert services.report_freeze(report=report, actor=bob) == 5
    ids = report.blocks.get(kind=Kind.LEADERBOARD).config["runs"]
    assert ids["query"] == QUERY["query"] and sorted(ids["frozen"]) == ["r0", "r1", "r2"]
    assert report.blocks.filter(config__runs={"ids": ["r0"]}).exists()  # fixed: untouched
    new = make_run(run_id="late", tags=["sweep"], summary={"acc": 0.9})
    new.config = {"lr": 0.5}
    new.save(update_fields=["config"])
    log(new, {"loss": [0.1]})
    assert shown(project, report) == before
    rendered = render_blocks(project, [report.blocks.get(kind=Kind.SCATTER).snapshot()])[0]
    assert rendered.frozen_text.endswith(": 3 runs")
    assert services.report_unfreeze(report=report, actor=bob) == 5
    after = shown(project, report)
    assert after != before
    assert "late" in dict((kind, rows) for kind, rows, _ in after)[Kind.LEADERBOARD]


def test_publishing_carries_the_freeze_to_readers(client, project, report, bob, make_run):
    services.report_freeze(report=report, actor=bob)
    services.report_publish(report=report, actor=bob)
    make_run(run_id="latecomer9", tags=["sweep"], summary={"acc": 0.9})
    client.force_login(bob)
    page = client.get(url("detail", report)).content.decode()
    assert "frozen on" in page and "r1" in page and "latecomer9" not in page


def test_the_editor_freezes_and_unfreezes(client, project, report, bob, erin):
    client.force_login(bob)
    assert "Freeze run sets" in client.get(url("edit", report)).content.decode()
    response = client.post(url("freeze", report), {"action": "freeze"})
    assert response.status_code == 302
    assert services.is_frozen(block.config for block in report.blocks.all())
    assert "Unfreeze" in client.get(url("edit", report)).content.decode()
    assert client.post(url("freeze", report), {"action": "thaw"}).status_code == 400
    client.post(url("freeze", report), {"action": "unfreeze"})
    assert not services.is_frozen(block.config for block in report.blocks.all())
    client.force_login(erin)  # a member, not the author
    assert client.post(url("freeze", report), {"action": "freeze"}).status_code == 403
    assert not services.is_frozen(block.config for block in report.blocks.all())


def test_editing_a_frozen_query_drops_the_freeze_and_keeping_it_keeps_it(
    client, project, report, bob
):
    services.report_freeze(report=report, actor=bob)
    block = report.blocks.get(kind=Kind.SCATTER)
    edit = reverse(
        "reports:block_edit",
        args=[project.entity.name, project.name, report.key, block.key],
    )
    client.force_login(bob)
    form = {"x": "config.lr", "y": "summary.loss", "query": QUERY["query"], "run_ids": ""}
    assert client.post(edit, form).status_code == 302
    block.refresh_from_db()
    assert block.config["y"] == "summary.loss" and "frozen" in block.config["runs"]
    assert client.post(edit, {**form, "query": "state = finished"}).status_code == 302
    block.refresh_from_db()
    assert block.config["runs"] == {"query": "state = finished"}
