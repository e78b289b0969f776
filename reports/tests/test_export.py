"""The report as one HTML file: who may download it, and that it reads offline: text, table
values, the figures and plotly.js inlined, nothing fetched from anywhere, no link into the site."""

import json
import re

import pytest
from django.urls import reverse

from reports import export, services
from reports.models import Report, ReportBlock
from reports.tests.helpers import log_images
from tests.factories import ProjectFactory

Kind = ReportBlock.Kind


def url(name, report):
    project = report.project
    return reverse(f"reports:{name}", args=[project.entity.name, project.name, report.key])


@pytest.fixture
def findings(project, bob, make_run, log):
    """bob's published report: text with a link into the site and one elsewhere, a line chart
    and a runs table of two runs."""
    for run_id, loss in (("r1", [3.0, 2.0, 1.0]), ("r2", [4.0, 3.5])):
        log(
            make_run(run_id=run_id, name=f"run-{run_id}", summary={"loss": loss[-1]}),
            {"loss": loss},
        )
    report = services.report_create(project=project, title="Week 12: <findings>", actor=bob)
    services.block_add(
        report=report,
        kind=Kind.TEXT,
        config={
            "markdown": "Loss *fell* for [the base runs](/example-team/resnet/) "
            "as [the paper](https://example.org/paper) says."
        },
    )
    services.block_add(
        report=report, kind=Kind.LINE_CHART, config={"metrics": ["loss"], "runs": {"query": ""}}
    )
    services.block_add(
        report=report,
        kind=Kind.RUNS_TABLE,
        config={"runs": {"ids": ["r1", "r2"]}, "columns": ["summary.loss"], "sort": "summary.loss"},
    )
    services.report_publish(report=report, actor=bob)
    return report


def download(client, report):
    response = client.get(url("export", report))
    assert response.status_code == 200, response.status_code
    return response, response.content.decode()


def test_the_file_holds_the_report_and_draws_its_charts_offline(client, findings, bob):
    client.force_login(bob)
    response, page = download(client, findings)
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="week-12-findings.html"'
    assert "<title>Week 12: &lt;findings&gt;</title>" in page
    assert 'id="version-line">Version 1 · published by bob' in page
    assert "Loss <em>fell</em> for" in page
    # The runs table's values, its run names as text.
    assert "<tr><td>run-r1</td><td>finished</td><td>1</td></tr>" in page
    assert "<tr><td>run-r2</td><td>finished</td><td>3.5</td></tr>" in page
    # The figure as the report page has it, and plotly.js itself, in the file.
    figure_id = response.context["blocks"][1].figure_id
    figure = re.search(rf'<script id="{figure_id}" type="application/json">(.*?)</script>', page)
    traces = json.loads(figure.group(1))["data"]
    assert {trace["name"]: trace["y"] for trace in traces} == {
        "run-r1": [3.0, 2.0, 1.0],
        "run-r2": [4.0, 3.5],
    }
    assert export.static_text(export.BASIC_BUNDLE) in page
    assert "Plotly.newPlot(element" in page
    # The stylesheets inlined; nothing loaded from anywhere.
    assert "@media print" in page and "--border" in page
    assert not re.search(r"<script[^>]*\ssrc=", page)
    assert not re.search(r"<link[^>]*\shref=", page)
    assert "<img" not in page and "@import" not in page


def test_no_link_leads_back_into_the_site(client, findings, bob, settings):
    client.force_login(bob)
    _, page = download(client, findings)
    markup = re.sub(r"<script.*?</script>", "", page, flags=re.S)  # plotly.js names its site
    hrefs = re.findall(r'href="([^"]*)"', markup)
    assert hrefs == ["https://example.org/paper"]
    assert "the base runs</a>" in page  # the text stays, without its link
    source = settings.SITE_URL + url("detail", findings)
    assert f"of {source}." in page  # the source, as plain text


def test_readers_get_the_published_version_and_not_the_draft(client, findings, alice):
    services.block_add(report=findings, kind=Kind.TEXT, config={"markdown": "unpublished thoughts"})
    client.force_login(alice)
    _, page = download(client, findings)
    assert "Loss <em>fell</em>" in page and "unpublished thoughts" not in page
    assert "draft-notice" not in page


def test_the_team_downloads_a_never_published_report_marked_as_a_draft(client, project, bob):
    draft = services.report_create(project=project, title="Unfinished", actor=bob)
    services.block_add(report=draft, kind=Kind.TEXT, config={"markdown": "draft words"})
    client.force_login(bob)
    response, page = download(client, draft)
    assert "draft words" in page and 'id="draft-notice"' in page
    assert "Plotly" not in page  # no chart: no plotly.js either
    assert response["Content-Disposition"] == 'attachment; filename="unfinished.html"'


@pytest.mark.parametrize(("who", "status"), [("bob", 200), ("charlie", 404), (None, 404)])
def test_the_file_is_for_those_who_read_the_report(client, findings, who, status, request):
    if who:
        client.force_login(request.getfixturevalue(who))
    assert client.get(url("export", findings)).status_code == status


def test_outsiders_download_published_public_reports_only(client, public_team, alice, charlie):
    public = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    published = services.report_create(project=public, title="Open findings", actor=alice)
    services.block_add(report=published, kind=Kind.TEXT, config={"markdown": "visible"})
    services.report_publish(report=published, actor=alice)
    team_only = services.report_create(project=public, title="Team talk", actor=alice)
    services.report_publish(report=team_only, actor=alice)
    Report.objects.filter(pk=published.pk).update(visibility=Report.Visibility.PUBLIC)
    unpublished = services.report_create(project=public, title="Secret plan", actor=alice)
    client.force_login(charlie)
    assert "visible" in download(client, published)[1]
    assert client.get(url("export", unpublished)).status_code == 404
    assert client.get(url("export", team_only)).status_code == 404
    client.logout()
    assert "visible" in download(client, published)[1]


def test_the_report_page_offers_the_download(client, findings, charlie, bob):
    client.force_login(bob)
    page = client.get(url("detail", findings)).content.decode()
    assert f'href="{url("export", findings)}" id="download-html"' in page


def test_a_chart_of_another_trace_type_takes_the_full_bundle(findings, project):
    blocks = export.render_blocks(project, findings.versions.get().blocks)
    assert export._plotly_bundle(blocks) == export.static_text(export.BASIC_BUNDLE)
    blocks[1].figure["data"][0]["type"] = "heatmap"
    assert export._plotly_bundle(blocks) == export.static_text(export.FULL_BUNDLE)


def test_a_closing_script_tag_in_inlined_code_cannot_end_the_element():
    assert export.inline_script('x = "</script><b>";') == 'x = "<\\/script><b>";'


@pytest.mark.parametrize(("panels", "runs"), [(1, 2), (3, 6)])
def test_the_file_costs_a_fixed_number_of_queries_per_panel(
    client, project, bob, make_run, log, panels, runs, django_assert_num_queries
):
    for index in range(runs):
        log(make_run(run_id=f"r{index}", summary={"loss": 1.0}), {"loss": [1.0, 0.5, 0.2]})
    report = services.report_create(project=project, title="Many", actor=bob)
    for _ in range(panels):
        services.block_add(
            report=report, kind=Kind.LINE_CHART, config={"metrics": ["loss"], "runs": {"query": ""}}
        )
        services.block_add(
            report=report,
            kind=Kind.RUNS_TABLE,
            config={"runs": {"query": ""}, "columns": ["summary.loss"]},
        )
    services.report_publish(report=report, actor=bob)
    client.force_login(bob)
    # The page's 6 (session, user, project, its entity's permissions, report, latest version);
    # per pair of panels: the chart's runs, its metric's id and series (2); the table's runs.
    with django_assert_num_queries(6 + panels * 5):
        page = download(client, report)[1]
    assert page.count("<tr><td>name-r") == panels * runs


def test_a_media_panels_images_travel_inside_the_file(client, project, bob, make_run, log):
    log_images(make_run(run_id="imgs"), log, steps=1, per_step=2)
    report = services.report_create(project=project, title="Samples", actor=bob)
    services.block_add(report=report, kind=Kind.MEDIA, config={"run": "imgs", "key": "samples"})
    services.report_publish(report=report, actor=bob)
    client.force_login(bob)
    html = download(client, report)[1]
    assert html.count('src="data:image/webp;base64,') == 2
    assert "/media/thumbnails/" not in html and "left out" not in html


def test_images_past_the_files_budget_are_left_out_and_said(
    client, project, bob, make_run, log, monkeypatch
):
    log_images(make_run(run_id="imgs"), log, steps=1, per_step=2)
    report = services.report_create(project=project, title="Samples", actor=bob)
    services.block_add(report=report, kind=Kind.MEDIA, config={"run": "imgs", "key": "samples"})
    services.report_publish(report=report, actor=bob)
    monkeypatch.setattr(export, "MAX_INLINE_IMAGES", 1)
    client.force_login(bob)
    html = download(client, report)[1]
    assert "data:image/webp" not in html and "/media/thumbnails/" not in html
    assert "2 image(s) left out of this file: see the report." in html
