"""A team's viewer and its reports: she reads them, their history and their comments, and
writes none of it."""

import pytest
from django.urls import reverse

from reports import comments
from reports import services as report_services
from reports.models import Report, ReportComment


@pytest.fixture
def report(project, bob):
    report = report_services.report_create(project=project, title="Findings", actor=bob)
    report_services.block_add(report=report, kind="text", config={"markdown": "words 7f3a"})
    report_services.report_publish(report=report, actor=bob)
    comments.comment_add(report=report, author=bob, body="a comment 7f3a")
    return report


def args(report, *extra):
    return [report.project.entity.name, report.project.name, report.key, *extra]


def test_viewer_reads_the_private_teams_reports(client, report, vera):
    client.force_login(vera)
    page = client.get(report.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "words 7f3a" in body and "a comment 7f3a" in body
    listing = client.get(reverse("reports:list", args=args(report)[:2])).content.decode()
    assert "Findings" in listing
    assert client.get(reverse("reports:history", args=args(report))).status_code == 200


def test_viewer_gets_no_comment_form(client, report, vera, bob):
    client.force_login(bob)
    assert 'class="comment-form"' in client.get(report.get_absolute_url()).content.decode()
    client.force_login(vera)
    body = client.get(report.get_absolute_url()).content.decode()
    assert 'class="comment-form"' not in body
    assert "Viewers read comments; members write them." in body


def test_viewer_cannot_comment(client, report, vera):
    client.force_login(vera)
    response = client.post(reverse("reports:comments", args=args(report)), {"body": "mine"})
    assert response.status_code == 403
    assert "viewers cannot write comments" in response.content.decode()
    assert not ReportComment.objects.filter(body="mine").exists()


def test_viewer_cannot_create_edit_or_delete_reports(client, project, report, vera):
    client.force_login(vera)
    created = client.post(
        reverse("reports:create", args=[project.entity.name, project.name]), {"title": "new"}
    )
    assert created.status_code == 403
    edited = client.post(reverse("reports:edit", args=args(report)), {"title": "changed"})
    assert edited.status_code == 403
    deleted = client.post(reverse("reports:delete", args=args(report)))
    assert deleted.status_code == 403
    assert list(Report.objects.values_list("title", flat=True)) == ["Findings"]
