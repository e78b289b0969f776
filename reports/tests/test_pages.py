"""The report pages through the test client: who may read and edit, the editor's htmx
actions, publishing, and what the live panels show."""

import pytest
from django.urls import reverse

from reports import services, share
from reports.models import Report, ReportBlock, ReportVersion
from reports.panels import CHART_BUCKETS
from runs import charts
from runs.models import MetricKey
from tests.factories import ProjectFactory

Kind = ReportBlock.Kind
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, report, *args):
    project = report.project
    return reverse(f"reports:{name}", args=[project.entity.name, project.name, report.key, *args])


def list_url(project, name="list"):
    return reverse(f"reports:{name}", args=[project.entity.name, project.name])


@pytest.fixture
def report(project, bob):
    """bob's report with a text block, published once."""
    report = services.report_create(project=project, title="Week 12", actor=bob)
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "Loss *fell*."})
    services.report_publish(report=report, actor=bob)
    return report


@pytest.fixture
def draft(project, bob):
    report = services.report_create(project=project, title="Unfinished", actor=bob)
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "draft words"})
    return report


# Who may do what


@pytest.mark.parametrize(
    ("who", "status"), [("bob", 200), ("alice", 200), ("erin", 200), ("charlie", 404), (None, 404)]
)
def test_private_project_report_is_read_by_the_team_only(client, report, who, status, request):
    request.getfixturevalue("erin")
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.get(url("detail", report))
    assert response.status_code == status
    if status == 200:
        assert "Loss <em>fell</em>." in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("bob", 200), ("alice", 200), ("erin", 403), ("charlie", 404)]
)
def test_author_and_admins_edit(client, report, who, status, request):
    request.getfixturevalue("erin")
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("edit", report)).status_code == status
    response = client.post(url("publish", report), {"note": "again"})
    assert response.status_code == (302 if status == 200 else status)
    assert report.versions.count() == (2 if status == 200 else 1)


def test_anonymous_visitors_are_sent_to_sign_in_for_the_editor(client, report):
    response = client.get(url("edit", report))
    assert response.status_code == 302 and "login" in response["Location"]


def test_outsiders_get_404_on_every_report_url_of_a_private_project(client, report, charlie):
    block = report.blocks.get()
    client.force_login(charlie)
    for address in (
        list_url(report.project),
        url("detail", report),
        url("edit", report),
        url("history", report),
        url("version", report, 1),
        url("block_edit", report, block.key),
    ):
        assert client.get(address).status_code == 404, address
    for address in (
        list_url(report.project, "create"),
        url("publish", report),
        url("delete", report),
        url("block_move", report, block.key),
        url("block_delete", report, block.key),
    ):
        assert client.post(address, {"title": "x", "direction": "up"}).status_code == 404
    assert Report.objects.filter(pk=report.pk).exists() and report.blocks.count() == 1


def test_unpublished_reports_are_the_teams_own(client, draft, bob, alice, public_team, charlie):
    client.force_login(bob)
    page = client.get(url("detail", draft)).content.decode()
    assert "draft words" in page and 'id="draft-notice"' in page
    public = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    unpublished = services.report_create(project=public, title="Secret plan", actor=alice)
    client.force_login(charlie)
    assert client.get(url("detail", unpublished)).status_code == 404
    assert "Secret plan" not in client.get(list_url(public)).content.decode()


def test_outsiders_read_a_public_report_but_not_a_team_one_nor_edit(
    client, public_team, alice, charlie
):
    public = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    report = services.report_create(project=public, title="Open findings", actor=alice)
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "visible"})
    services.report_publish(report=report, actor=alice)
    # Team visibility (the default): the project is public, its reports are the team's.
    assert client.get(url("detail", report)).status_code == 404
    assert "Open findings" not in client.get(list_url(public)).content.decode()
    share.report_set_visibility(report=report, visibility="public", actor=alice)
    assert "visible" in client.get(url("detail", report)).content.decode()  # anonymous
    assert "Open findings" in client.get(list_url(public)).content.decode()
    client.force_login(charlie)
    assert client.get(url("detail", report)).status_code == 200
    assert client.get(url("edit", report)).status_code == 403
    assert client.get(url("history", report)).status_code == 404
    assert client.post(url("publish", report)).status_code == 403
    assert client.post(list_url(public, "create"), {"title": "mine"}).status_code == 403
    assert report.versions.count() == 1 and Report.objects.count() == 1


# Writing a report


def test_a_member_creates_a_report_and_lands_in_the_editor(client, project, bob):
    client.force_login(bob)
    response = client.post(list_url(project, "create"), {"title": "Ablations"})
    report = Report.objects.get(title="Ablations")
    assert report.created_by == bob
    assert response["Location"] == url("edit", report)
    assert client.post(list_url(project, "create"), {"title": ""}).status_code == 400
    assert Report.objects.count() == 1


def test_blocks_are_added_edited_moved_and_deleted_with_htmx(client, draft, bob, make_run):
    make_run(run_id="r1", summary={"loss": 0.5}, config={"lr": 0.1})
    client.force_login(bob)
    form = client.get(url("block_new", draft) + "?kind=runs_table", **HTMX)
    assert 'name="columns"' in form.content.decode()
    response = client.post(
        url("block_new", draft),
        {"kind": "runs_table", "query": "", "columns": "summary.loss, config.lr", "limit": 10},
        **HTMX,
    )
    page = response.content.decode()
    assert 'id="report-blocks"' in page and "<td>0.5</td><td>0.1</td>" in page
    text, table = draft.blocks.all()
    assert table.config == {
        "runs": {"query": ""},
        "columns": ["summary.loss", "config.lr"],
        "limit": 10,
    }
    edit_form = client.get(url("block_edit", draft, text.key), **HTMX).content.decode()
    assert "draft words" in edit_form
    edited = client.post(url("block_edit", draft, text.key), {"markdown": "**new**"}, **HTMX)
    assert "<strong>new</strong>" in edited.content.decode()
    client.post(url("block_move", draft, table.key), {"direction": "up"}, **HTMX)
    assert [b.kind for b in draft.blocks.all()] == [Kind.RUNS_TABLE, Kind.TEXT]
    client.post(url("block_delete", draft, text.key), **HTMX)
    assert [b.kind for b in draft.blocks.all()] == [Kind.RUNS_TABLE]


def test_a_bad_query_is_a_form_error_and_nothing_is_saved(client, draft, bob):
    client.force_login(bob)
    data = {"kind": "line_chart", "metrics": "loss", "query": "summary.loss <"}
    response = client.post(url("block_new", draft), data, **HTMX)
    assert response.status_code == 200  # htmx swaps the form with its errors
    assert "The query has a mistake" in response.content.decode()
    plain = client.post(url("block_new", draft), data)
    assert plain.status_code == 400
    assert draft.blocks.count() == 1


def test_editing_without_javascript_redirects_to_the_editor(client, draft, bob):
    client.force_login(bob)
    block = draft.blocks.get()
    response = client.post(url("block_edit", draft, block.key), {"markdown": "plain form"})
    assert response["Location"] == url("edit", draft)
    block.refresh_from_db()
    assert block.config == {"markdown": "plain form"}
    assert client.get(url("block_edit", draft, block.key)).status_code == 200


def test_publishing_shows_the_snapshot_to_readers(client, draft, bob, alice):
    client.force_login(bob)
    client.post(url("publish", draft), {"note": "first"})
    block = draft.blocks.get()
    client.post(url("block_edit", draft, block.key), {"markdown": "unpublished edit"})
    client.force_login(alice)
    page = client.get(url("detail", draft)).content.decode()
    assert "draft words" in page and "unpublished edit" not in page
    history = client.get(url("history", draft)).content.decode()
    assert "first" in history and "1 added, 0 removed, 0 edited" in history
    assert "draft words" in client.get(url("version", draft, 1)).content.decode()
    assert client.get(url("version", draft, 9)).status_code == 404


def test_the_author_deletes_a_report(client, report, bob):
    client.force_login(bob)
    response = client.post(url("delete", report))
    assert response["Location"] == list_url(report.project)
    assert not Report.objects.exists() and not ReportVersion.objects.exists()


# Live panels


def test_line_chart_draws_each_run_of_the_query(client, project, bob, make_run, log):
    log(make_run(run_id="a1", tags=["base"]), {"loss": [3, 2, 1]})
    log(make_run(run_id="a2", tags=["base"]), {"loss": [4, 3]})
    log(make_run(run_id="b1"), {"loss": [9]})
    report = services.report_create(project=project, title="Charts", actor=bob)
    services.block_add(
        report=report,
        kind=Kind.LINE_CHART,
        config={"metrics": ["loss"], "runs": {"query": 'tags has "base"'}},
    )
    client.force_login(bob)
    response = client.get(url("detail", report))
    (block,) = response.context["blocks"]
    traces = {trace["name"]: (trace["x"], trace["y"]) for trace in block.figure["data"]}
    assert traces == {"name-a1": ([0, 1, 2], [3, 2, 1]), "name-a2": ([0, 1], [4, 3])}
    assert f'id="{block.figure_id}"' in response.content.decode()


def test_run_names_reach_the_chart_as_text(client, project, bob, make_run, log):
    log(make_run(run_id="odd", name='<a href="https://x.example">odd</a>'), {"loss": [1.0]})
    report = services.report_create(project=project, title="Names", actor=bob)
    services.block_add(
        report=report, kind=Kind.LINE_CHART, config={"metrics": ["loss"], "runs": {"ids": ["odd"]}}
    )
    client.force_login(bob)
    (block,) = client.get(url("detail", report)).context["blocks"]
    assert (
        block.figure["data"][0]["name"]
        == "&lt;a href=&quot;https://x.example&quot;&gt;odd&lt;/a&gt;"
    )


def test_runs_table_sorts_and_links_runs(client, project, bob, make_run):
    for run_id, loss in (("x", 0.3), ("y", 0.1), ("z", 0.2)):
        make_run(run_id=run_id, summary={"loss": loss})
    report = services.report_create(project=project, title="Table", actor=bob)
    services.block_add(
        report=report,
        kind=Kind.RUNS_TABLE,
        config={
            "runs": {"ids": ["x", "y", "z"]},
            "columns": ["summary.loss"],
            "sort": "summary.loss",
            "limit": 2,
        },
    )
    client.force_login(bob)
    response = client.get(url("detail", report))
    (block,) = response.context["blocks"]
    assert [row["run"].run_id for row in block.rows] == ["y", "z"]
    assert [row["values"] for row in block.rows] == [["0.1"], ["0.2"]]
    assert "More runs match" in block.notes[0]
    run_url = reverse("runs:detail", args=[project.entity.name, project.name, "y"])
    assert f'href="{run_url}"' in response.content.decode()


def _report_with_panels(project, author, panels: int) -> Report:
    report = services.report_create(project=project, title="Big", actor=author)
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "# Intro"})
    for _ in range(panels):
        services.block_add(
            report=report,
            kind=Kind.LINE_CHART,
            config={"metrics": ["loss", "acc"], "runs": {"query": ""}},
        )
        services.block_add(
            report=report,
            kind=Kind.RUNS_TABLE,
            config={"runs": {"query": "summary.loss >= 0"}, "columns": ["summary.loss"]},
        )
    services.report_publish(report=report, actor=author)
    return report


# The report page around its blocks: session, user, project, its entity's permissions, the
# report, its latest version; for the team, the comments' counts and the report's thread.
PAGE_BASE = 8


@pytest.mark.parametrize("panels", [1, 5])
@pytest.mark.parametrize("points", [10, 1000])
def test_report_page_queries_do_not_grow_with_runs_or_points(
    client, project, bob, make_run, log, points, panels, django_assert_num_queries
):
    """The count is pinned: the same at 2 runs x 10 points and 6 runs x 1000 points, and a
    fixed number per panel."""
    for index in range(2 if points == 10 else 6):
        run = make_run(run_id=f"r{index}", summary={"loss": 1.0})
        log(run, {"loss": [float(i) for i in range(points)], "acc": [0.5] * points})
    report = _report_with_panels(project, bob, panels=panels)
    client.force_login(bob)
    # Per panel pair: the chart's runs, its metrics' ids, 2 per metric; the table's runs.
    with django_assert_num_queries(PAGE_BASE + panels * (1 + 1 + 2 * 2 + 1)):
        response = client.get(url("detail", report))
    charts = [b for b in response.context["blocks"] if b.kind == Kind.LINE_CHART]
    assert len(charts) == panels
    assert all(len(b.figure["data"]) == 2 * (2 if points == 10 else 6) for b in charts)
    longest = max(len(trace["x"]) for trace in charts[0].figure["data"])
    # Up to twice CHART_BUCKETS points, every point; beyond, each bucket's lowest and highest.
    assert longest == min(points, 2 * CHART_BUCKETS)


def test_long_and_short_series_of_one_chart_read_as_the_run_page_reads_them(
    project, make_run, log, django_assert_num_queries
):
    """A long series arrives as its tiles' lowest and highest values, a short one point by
    point, both in the same two queries, and each as runs.charts.metric_series draws it."""
    values = [float(step % 97) for step in range(20_000)]
    values[12_345] = 1e6  # a spike that bucketing must keep
    long_run = log(make_run(run_id="long"), {"loss": values})
    short_run = log(make_run(run_id="short"), {"loss": [1.0, 2.0, 3.0]})
    key_id = charts.key_ids(MetricKey.Stream.HISTORY, ["loss"])["loss"]
    with django_assert_num_queries(2):
        series = charts.runs_series([long_run.pk, short_run.pk], key_id, buckets=CHART_BUCKETS)
    steps, read = series[long_run.pk]
    assert len(steps) <= 2 * CHART_BUCKETS and 1e6 in read
    alone = charts.metric_series(long_run, "loss", buckets=CHART_BUCKETS, with_time=False)
    assert (steps, read) == (alone.steps, alone.values)
    assert series[short_run.pk] == ([0, 1, 2], [1.0, 2.0, 3.0])
