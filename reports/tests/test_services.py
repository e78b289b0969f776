"""Block settings checked per kind, the draft's changes, publishing and the history's diff."""

import pytest
from django.core.exceptions import ValidationError

from reports import services, share
from reports.blocks import CHART_RUNS, TABLE_ROWS, clean_config
from reports.models import Report, ReportBlock, ReportVersion
from reports.selectors import project_reports, version_history
from tests.factories import ProjectFactory

Kind = ReportBlock.Kind


@pytest.fixture
def report(project, bob):
    return services.report_create(project=project, title="Findings", actor=bob)


def errors(kind, config) -> dict:
    with pytest.raises(ValidationError) as caught:
        clean_config(kind, config)
    return caught.value.message_dict


def test_text_block_keeps_its_markdown():
    assert clean_config(Kind.TEXT, {"markdown": "# Hi", "extra": 1}) == {"markdown": "# Hi"}
    assert "markdown" in errors(Kind.TEXT, {"markdown": 3})


def test_line_chart_needs_metrics_and_a_run_set():
    config = clean_config(
        Kind.LINE_CHART,
        {"metrics": ["loss", " loss", "acc"], "runs": {"query": " state = finished "}},
    )
    assert config == {"metrics": ["loss", "acc"], "runs": {"query": "state = finished"}}
    assert "metrics" in errors(Kind.LINE_CHART, {"metrics": [], "runs": {"query": ""}})
    assert "runs" in errors(Kind.LINE_CHART, {"metrics": ["loss"], "runs": "all"})
    ids = clean_config(Kind.LINE_CHART, {"metrics": ["loss"], "runs": {"ids": ["a", "b"]}})
    assert ids["runs"] == {"ids": ["a", "b"]}
    assert CHART_RUNS == 50


def test_a_bad_query_names_the_mistake():
    problem = errors(Kind.LINE_CHART, {"metrics": ["loss"], "runs": {"query": "summary.loss <"}})
    assert "The query has a mistake" in problem["runs"][0]


def test_runs_table_checks_columns_sort_and_limit():
    runs = {"query": ""}
    config = clean_config(
        Kind.RUNS_TABLE,
        {"runs": runs, "columns": ["summary.loss", "config.lr"], "sort": "-summary.loss"},
    )
    assert config == {
        "runs": runs,
        "columns": ["summary.loss", "config.lr"],
        "sort": "-summary.loss",
        "limit": 20,
    }
    assert "columns" in errors(Kind.RUNS_TABLE, {"runs": runs, "columns": ["loss"]})
    assert "sort" in errors(Kind.RUNS_TABLE, {"runs": runs, "sort": "tags"})
    assert "limit" in errors(Kind.RUNS_TABLE, {"runs": runs, "limit": TABLE_ROWS + 1})
    assert "limit" in errors(Kind.RUNS_TABLE, {"runs": runs, "limit": True})


def test_unknown_kind_is_refused():
    assert "kind" in errors("bogus", {})


def test_a_refused_block_saves_nothing(report):
    before = report.updated_at
    with pytest.raises(ValidationError):
        services.block_add(report=report, kind=Kind.LINE_CHART, config={"metrics": []})
    report.refresh_from_db()
    assert report.blocks.count() == 0 and report.updated_at == before


def test_blocks_are_added_at_the_end_and_move(report):
    first = services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "one"})
    second = services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "two"})
    assert [b.key for b in report.blocks.all()] == [first.key, second.key]
    services.block_move(block=second, direction="up")
    assert [b.key for b in report.blocks.all()] == [second.key, first.key]
    services.block_move(block=ReportBlock.objects.get(pk=second.pk), direction="up")  # at the top
    assert [b.key for b in report.blocks.all()] == [second.key, first.key]
    with pytest.raises(ValidationError):
        services.block_move(block=first, direction="sideways")
    services.block_delete(block=ReportBlock.objects.get(pk=second.pk))
    assert [b.key for b in report.blocks.all()] == [first.key]


def test_publishing_snapshots_the_draft_and_numbers_versions(report, bob, alice):
    block = services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "one"})
    first = services.report_publish(report=report, actor=bob, note="first cut")
    assert (first.number, first.title, first.note, first.published_by) == (
        1,
        "Findings",
        "first cut",
        bob,
    )
    assert first.blocks == [{"key": block.key, "kind": "text", "config": {"markdown": "one"}}]
    services.block_update(block=block, config={"markdown": "changed"})
    services.report_rename(report=report, title="Findings, revised")
    second = services.report_publish(report=report, actor=alice)
    assert second.number == 2
    first.refresh_from_db()
    assert first.blocks[0]["config"] == {"markdown": "one"}  # the old version stays as it was
    assert second.blocks[0]["config"] == {"markdown": "changed"}
    assert second.title == "Findings, revised"


def test_history_counts_added_removed_and_edited_blocks(report, bob):
    kept = services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "a"})
    dropped = services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "b"})
    services.report_publish(report=report, actor=bob)
    services.block_update(block=kept, config={"markdown": "a, edited"})
    services.block_delete(block=dropped)
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "c"})
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "d"})
    services.report_publish(report=report, actor=bob)
    services.block_move(block=ReportBlock.objects.get(pk=kept.pk), direction="down")
    services.report_publish(report=report, actor=bob)
    latest, second, first = version_history(report)
    assert first.changes == {"added": 2, "removed": 0, "edited": 0}
    assert second.changes == {"added": 2, "removed": 1, "edited": 1}
    assert latest.changes == {"added": 0, "removed": 0, "edited": 0}  # a move is no edit


def test_the_list_tells_unpublished_changes(report, project, bob):
    assert [r.has_pending_changes for r in project_reports(project, member=True)] == [True]
    services.report_publish(report=report, actor=bob)
    (listed,) = project_reports(project, member=True)
    assert not listed.has_pending_changes and listed.version_count == 1
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "more"})
    (listed,) = project_reports(project, member=True)
    assert listed.has_pending_changes


def test_others_list_only_published_public_reports_of_a_team_that_is_not_private(
    public_team, alice
):
    project = ProjectFactory(entity=public_team, creator=alice, visibility="public")
    report = services.report_create(project=project, title="Open", actor=alice)
    share.report_set_visibility(report=report, visibility="public", actor=alice)
    assert project_reports(project, member=False) == []  # not published yet
    services.report_publish(report=report, actor=alice)
    assert [r.pk for r in project_reports(project, member=False)] == [report.pk]
    team_only = services.report_create(project=project, title="Ours", actor=alice)
    services.report_publish(report=team_only, actor=alice)
    assert [r.pk for r in project_reports(project, member=False)] == [report.pk]
    assert len(project_reports(project, member=True)) == 2
    # A team turning private hides its public reports at once, whatever they say.
    public_team.is_private = True
    public_team.save(update_fields=["is_private"])
    project.refresh_from_db()
    assert project_reports(project, member=False) == []


def test_deleting_a_report_removes_its_versions(report, bob):
    services.report_publish(report=report, actor=bob)
    services.report_delete(report=report)
    assert not Report.objects.exists() and not ReportVersion.objects.exists()


def test_titles_are_required(project, bob):
    with pytest.raises(ValidationError):
        services.report_create(project=project, title="  ", actor=bob)
