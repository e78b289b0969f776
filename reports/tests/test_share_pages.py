"""The sharing pages through the test client: the visibility form, the Share page (a link
shown once, revoking), the page a link opens and public reports read outside their project."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reports import services, share
from reports.models import ReportBlock, ReportShareLink, ReportVersion
from teams.models import AuditEvent
from tests.factories import ProjectFactory

Kind = ReportBlock.Kind


def url(name, report, *args):
    project = report.project
    return reverse(f"reports:{name}", args=[project.entity.name, project.name, report.key, *args])


def shared_url(token):
    return reverse("shared_report", args=[token])


def _panels_report(project, author, title="Week 12"):
    """A report with text, two line charts of different metrics and a runs table."""
    report = services.report_create(project=project, title=title, actor=author)
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "Loss *fell*."})
    for metric in ("loss", "acc"):
        services.block_add(
            report=report,
            kind=Kind.LINE_CHART,
            config={"metrics": [metric], "runs": {"query": ""}},
        )
    services.block_add(
        report=report,
        kind=Kind.RUNS_TABLE,
        config={"runs": {"query": ""}, "columns": ["summary.loss"]},
    )
    services.report_publish(report=report, actor=author)
    return report


def _runs(make_run, log, count):
    for index in range(count):
        run = make_run(run_id=f"r{index}", name=f"run-{index}", summary={"loss": 1.0 / (index + 1)})
        log(run, {"loss": [1.0, 0.5, 0.25], "acc": [0.1, 0.2, 0.3]})


def _hrefs(html):
    return re.findall(r'href="([^"]*)"', html)


def _assert_outside(html, project):
    """Nothing on the page leads into the project (its runs, pages, history or editor)."""
    inside = f"/{project.entity.name}/{project.name}/"
    assert not [href for href in _hrefs(html) if inside in href]
    assert 'class="crumbs"' not in html and project.path not in html
    assert "History" not in html and "Edit" not in html


# The page a link opens


def test_a_link_opens_the_published_version_outside_the_project(
    client, project, bob, make_run, log
):
    _runs(make_run, log, 2)
    report = _panels_report(project, bob)
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "not yet published"})
    link, raw = share.share_link_create(report=report, actor=bob)
    response = client.get(shared_url(raw))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Week 12" in html and "<em>fell</em>" in html and "not yet published" not in html
    assert response.context["outside"] is True
    charts = [b for b in response.context["blocks"] if b.kind == Kind.LINE_CHART]
    assert [len(b.figure["data"]) for b in charts] == [2, 2]
    assert "run-0" in html and "run-1" in html  # the table's rows, as text
    _assert_outside(html, project)
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "style-src" in response["Content-Security-Policy"]
    link.refresh_from_db()
    assert link.last_used_at is not None


def test_figures_a_link_opens_name_no_page_of_the_project(client, project, bob, make_run):
    for index in range(3):
        make_run(
            run_id=f"r{index}", config={"lr": 0.1 * (index + 1)}, summary={"loss": 1.0 - index / 4}
        )
    report = services.report_create(project=project, title="Sweep", actor=bob)
    for kind, config in (
        (Kind.SCATTER, {"runs": {"query": ""}, "x": "config.lr", "y": "summary.loss"}),
        (
            Kind.PARALLEL_COORDINATES,
            {"runs": {"query": ""}, "columns": ["config.lr", "summary.loss"]},
        ),
    ):
        services.block_add(report=report, kind=kind, config=config)
    services.report_publish(report=report, actor=bob)
    _, raw = share.share_link_create(report=report, actor=bob)
    response = client.get(shared_url(raw))
    figures = [block.figure for block in response.context["blocks"]]
    assert all(figure and figure["data"] for figure in figures)
    assert not any("customdata" in trace for figure in figures for trace in figure["data"])
    _assert_outside(response.content.decode(), project)  # the figures' JSON included
    client.force_login(bob)  # the team's page keeps the click-through to a run
    inside = client.get(url("detail", report)).context["blocks"][0].figure
    assert inside["data"][0]["customdata"][0].startswith(f"/{project.path}/runs/")


def test_a_link_holder_is_nobody_to_the_rest_of_the_site(client, project, bob, make_run, log):
    _runs(make_run, log, 1)
    report = _panels_report(project, bob)
    _, raw = share.share_link_create(report=report, actor=bob)
    assert client.get(shared_url(raw)).status_code == 200
    run_url = reverse("runs:detail", args=[project.entity.name, project.name, "r0"])
    for page in (
        reverse("project", args=[project.entity.name, project.name]),
        run_url,
        url("detail", report),
        url("history", report),
        url("share", report),
    ):
        assert client.get(page).status_code in (302, 404), page
    assert client.get(url("detail", report)).status_code == 404


def test_a_member_reads_a_link_outside_too(client, project, bob, alice):
    report = _panels_report(project, bob)
    _, raw = share.share_link_create(report=report, actor=bob)
    client.force_login(alice)
    html = client.get(shared_url(raw)).content.decode()
    _assert_outside(html, project)


@pytest.mark.parametrize("how", ["unknown", "expired", "revoked", "unpublished"])
def test_a_link_that_does_not_work_is_a_404(client, project, bob, how):
    report = _panels_report(project, bob)
    link, raw = share.share_link_create(report=report, actor=bob)
    if how == "unknown":
        raw = raw[:-2] + "xx"
    elif how == "expired":
        ReportShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    elif how == "revoked":
        share.share_link_revoke(link=link, actor=bob)
    else:  # versions gone (only through the ORM): the draft is never shown
        ReportVersion.objects.filter(report=report).delete()
    assert client.get(shared_url(raw)).status_code == 404
    link.refresh_from_db()
    assert link.last_used_at is None


@pytest.mark.parametrize("runs", [1, 6])
def test_the_shared_page_costs_the_same_with_one_run_or_many(
    client, project, bob, make_run, log, runs, django_assert_num_queries
):
    _runs(make_run, log, runs)
    report = _panels_report(project, bob)
    _, raw = share.share_link_create(report=report, actor=bob)
    # The link with its report, project and team; the latest version; per chart its runs, the
    # metric's id and the series (2); the table's runs; last_used_at.
    with django_assert_num_queries(2 + 2 * (1 + 1 + 2) + 1 + 1):
        response = client.get(shared_url(raw))
    assert len(response.context["blocks"][-1].rows) == runs


# Public reports read outside their project


def test_a_public_report_of_a_team_only_project_is_read_outside_it(
    client, public_team, alice, charlie, make_run, log
):
    internal = ProjectFactory(entity=public_team, creator=alice, name="internal")
    make_run(project=internal, run_id="r0", name="run-0", summary={"loss": 1.0})
    report = _panels_report(internal, alice, title="Open findings")
    assert client.get(url("detail", report)).status_code == 404  # the team's, for now
    share.report_set_visibility(report=report, visibility="public", actor=alice)
    for who in (None, charlie):
        if who:
            client.force_login(who)
        response = client.get(url("detail", report))
        assert response.status_code == 200 and response.context["outside"] is True
        html = response.content.decode()
        assert "Open findings" in html and "run-0" in html
        # A public reader came by the report's own address: its download sits next to it.
        assert f'href="{report.get_export_url()}" id="download-html"' in html
        _assert_outside(html.replace(report.get_export_url(), ""), internal)
        assert (
            client.get(reverse("project", args=[public_team.name, internal.name])).status_code
            == 404
        )
        assert client.get(url("history", report)).status_code in (302, 404)
    client.force_login(alice)  # the team reads it inside
    response = client.get(url("detail", report))
    assert response.context["outside"] is False and 'class="crumbs"' in response.content.decode()
    # The team turning private hides it at once.
    public_team.is_private = True
    public_team.save(update_fields=["is_private"])
    client.force_login(charlie)
    assert client.get(url("detail", report)).status_code == 404


# The Share page


def test_the_author_makes_a_link_shown_once_then_revokes_it(client, project, bob):
    report = _panels_report(project, bob)
    client.force_login(bob)
    response = client.post(url("share_link_create", report), {"label": "for Ada", "days": "30"})
    assert response.status_code == 302 and response["Location"] == url("share", report)
    page = client.get(url("share", report))
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    (shown,) = re.findall(r'<code id="secret">([^<]+)</code>', html)
    assert "/shared/reports/" in shown
    raw = shown.rstrip("/").rsplit("/", 1)[1]
    link = ReportShareLink.objects.get()
    assert link.label == "for Ada" and link.token_hash != raw and share.active_link(raw) == link
    assert "for Ada" in html and "active" in html
    again = client.get(url("share", report)).content.decode()
    assert raw not in again and "no-store" not in client.get(url("share", report)).get(
        "Cache-Control", ""
    )
    revoke = url("share_link_revoke", report, link.token_hash[:16])
    assert client.post(revoke).status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert "revoked" in client.get(url("share", report)).content.decode()
    assert client.get(shared_url(raw)).status_code == 404
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {share.LINK_CREATED_VERB, share.LINK_REVOKED_VERB} <= verbs


def test_a_draft_gets_no_link_and_the_page_says_why(client, project, bob):
    report = services.report_create(project=project, title="Unfinished", actor=bob)
    client.force_login(bob)
    assert "Publish the report first" in client.get(url("share", report)).content.decode()
    response = client.post(url("share_link_create", report), {"label": "", "days": "7"})
    assert response.status_code == 400
    assert "Publish the report first" in response.content.decode()
    assert not ReportShareLink.objects.exists()


@pytest.mark.parametrize("data", [{"days": "3"}, {"days": "x"}, {"days": "7", "label": "x" * 101}])
def test_bad_link_forms_change_nothing(client, project, bob, data):
    report = _panels_report(project, bob)
    client.force_login(bob)
    assert client.post(url("share_link_create", report), data).status_code == 400
    assert not ReportShareLink.objects.exists()


def test_another_member_neither_shares_nor_revokes(client, project, bob, alice, erin):
    report = _panels_report(project, bob)
    link, _ = share.share_link_create(report=report, actor=bob)
    client.force_login(erin)
    assert client.get(url("share", report)).status_code == 403
    assert client.post(url("share_link_create", report), {"days": "7"}).status_code == 403
    assert client.post(url("share_link_revoke", report, link.token_hash[:16])).status_code == 403
    assert client.post(url("share_link_revoke", report, "0" * 16)).status_code == 403
    link.refresh_from_db()
    assert link.revoked_at is None and ReportShareLink.objects.count() == 1
    client.force_login(alice)  # a team admin does
    assert client.post(url("share_link_revoke", report, "0" * 16)).status_code == 404
    assert client.post(url("share_link_revoke", report, link.token_hash[:16])).status_code == 302


# Visibility form


def test_a_private_teams_report_stays_team_only_and_the_form_says_why(client, project, bob):
    report = _panels_report(project, bob)
    client.force_login(bob)
    response = client.post(url("visibility", report), {"visibility": "public"})
    assert response.status_code == 400
    assert "is private: its reports cannot be public" in response.content.decode()
    report.refresh_from_db()
    assert report.visibility == "team"


def test_the_author_makes_a_report_public(client, public_team, alice, bob):
    project = ProjectFactory(entity=public_team, creator=alice, name="open")
    report = _panels_report(project, alice)
    client.force_login(alice)
    assert client.post(url("visibility", report), {"visibility": "nope"}).status_code == 400
    response = client.post(url("visibility", report), {"visibility": "public"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.visibility == "public"
    assert AuditEvent.objects.filter(verb=share.VISIBILITY_VERB, actor=alice).count() == 1
    editor = client.get(url("edit", report)).content.decode()
    assert re.search(r'value="public"[^>]* checked', editor)
