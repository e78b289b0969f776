"""The home page: the person's teams with their role, the projects of their own entities,
latest activity first, the runs they logged lately and the recent alerts of their projects,
each linked to its page; only what they may see now.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in open-team.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import AlertEvent
from home.selectors import HOME_ALERTS, HOME_REPORTS, HOME_RUNS
from projects.selectors import HOME_PROJECTS
from reports.services import report_create, report_publish
from runs.models import Alert as ClientAlert
from teams.models import Membership
from teams.services import membership_remove
from tests.factories import ProjectFactory, RunFactory, add_member


def home(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def project_links(html):
    table = html.split('<table class="table" id="projects">')[1].split("</table>")[0]
    return re.findall(r'<td><a href="(/[^"]+/)">', table)


def test_home_lists_the_projects_a_member_can_see_latest_activity_first(
    client, alice, bob, charlie, team, public_team
):
    now = timezone.now()
    resnet = ProjectFactory(entity=team, creator=alice, name="resnet")
    bert = ProjectFactory(entity=team, creator=bob, name="bert")
    ProjectFactory(entity=bob.personal_entity, creator=bob, name="scratch")
    ProjectFactory(entity=public_team, creator=alice, name="demo", visibility="public")
    ProjectFactory(entity=charlie.personal_entity, creator=charlie, name="secret")
    RunFactory(project=resnet, author=alice, created_at=now - timedelta(days=3))
    RunFactory(project=bert, author=bob, created_at=now - timedelta(hours=1))
    RunFactory(project=bert, author=bob, created_at=now - timedelta(days=9))
    # scratch has no run: it counts from its creation, just now.

    html = home(client, bob)

    assert project_links(html) == ["/bob/scratch/", "/example-team/bert/", "/example-team/resnet/"]
    assert "no runs yet" in html
    assert "demo" not in html and "secret" not in html
    # The teams, with the person's role in each.
    assert '<a href="/example-team/"><strong>example-team</strong></a>' in html
    assert "Member · 2 members" in html
    assert "open-team" not in html
    assert 'id="no-projects"' not in html


def test_home_of_someone_without_projects_offers_to_create_a_project_or_a_team(client, charlie):
    html = home(client, charlie)

    empty = html.split('id="no-projects">')[1].split("</p>")[0]
    assert '<a href="/projects/new/">Create a project</a>' in empty
    assert '<a href="/settings/teams/new/">create a team</a>' in empty
    assert 'id="projects"' not in html


@pytest.mark.parametrize("size", [2, 30])
def test_home_costs_the_same_queries_for_2_and_30_projects(
    client, alice, team, public_team, django_assert_num_queries, size
):
    for index in range(size):
        entity = [team, public_team, alice.personal_entity][index % 3]
        project = ProjectFactory(entity=entity, creator=alice, name=f"p{index}")
        RunFactory(project=project, author=alice)
    client.force_login(alice)
    client.get("/")

    # session, user, teams with member counts, default entity, recent projects, runs, alerts
    with django_assert_num_queries(8):
        response = client.get("/")

    assert len(project_links(response.content.decode())) == min(size, HOME_PROJECTS)


def table_rows(html, table_id):
    if f'id="{table_id}"' not in html:
        return []
    table = html.split(f'id="{table_id}"')[1].split("</table>")[0]
    return table.split("<tbody>")[1].split("<tr>")[1:]


def run_links(html):
    return [
        re.search(r'<a href="(/[^"]+/runs/[^"]+/)">', row)[1]
        for row in table_rows(html, "recent-runs")
    ]


def alert_messages(html):
    return [re.findall(r"<td>([^<]*)</td>", row)[1] for row in table_rows(html, "recent-alerts")]


def fire(run, message, *, rule_name="loss too high", minutes_ago=0, client=False):
    fired_at = timezone.now() - timedelta(minutes=minutes_ago)
    if client:
        alert = ClientAlert.objects.create(run=run, title=message)
        return AlertEvent.objects.create(
            project=run.project, run=run, client_alert=alert, message=message, fired_at=fired_at
        )
    return AlertEvent.objects.create(
        project=run.project, run=run, rule_name=rule_name, message=message, fired_at=fired_at
    )


def test_home_lists_the_runs_the_person_logged_newest_activity_first(client, alice, bob, team):
    now = timezone.now()
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    old = RunFactory(project=project, author=bob, name="old-but-beating", state="running")
    old.created_at, old.heartbeat_at = now - timedelta(days=5), now - timedelta(minutes=1)
    old.save(update_fields=["created_at", "heartbeat_at"])
    crashed = RunFactory(project=project, author=bob, name="crashed-yesterday", state="crashed")
    crashed.created_at = now - timedelta(days=1)
    crashed.save(update_fields=["created_at"])
    RunFactory(project=project, author=alice, name="alices-run")

    html = home(client, bob)

    assert run_links(html) == [
        f"/example-team/resnet/runs/{old.run_id}/",
        f"/example-team/resnet/runs/{crashed.run_id}/",
    ]
    rows = table_rows(html, "recent-runs")
    assert '<span class="state state-running">Running</span>' in rows[0]
    assert '<span class="state state-crashed">Crashed</span>' in rows[1]
    assert '<a href="/example-team/resnet/">example-team/resnet</a>' in rows[0]
    assert "alices-run" not in html
    assert 'id="no-recent-runs"' not in html


def test_home_shows_at_most_ten_recent_runs(client, alice, team):
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    runs = [RunFactory(project=project, author=alice) for _ in range(HOME_RUNS + 3)]

    links = run_links(home(client, alice))

    assert len(links) == HOME_RUNS
    assert links[0] == f"/example-team/resnet/runs/{runs[-1].run_id}/"


def test_home_lists_recent_alerts_of_the_persons_projects(
    client, alice, bob, charlie, team, public_team
):
    resnet = ProjectFactory(entity=team, creator=alice, name="resnet")
    run = RunFactory(project=resnet, author=alice, name="wide-sky")
    fire(run, "loss is 2.5", minutes_ago=10)
    fire(run, "gradient exploded", minutes_ago=1, client=True)
    # Alerts of projects bob is not in, public or private, are not his news.
    demo = ProjectFactory(entity=public_team, creator=alice, name="demo", visibility="public")
    fire(RunFactory(project=demo, author=alice), "demo alert")
    secret = ProjectFactory(entity=charlie.personal_entity, creator=charlie, name="secret")
    fire(RunFactory(project=secret, author=charlie), "charlie alert")

    html = home(client, bob)

    assert alert_messages(html) == ["gradient exploded", "loss is 2.5"]
    rows = table_rows(html, "recent-alerts")
    assert "<td>run.alert()</td>" in rows[0]
    assert "<td>loss too high</td>" in rows[1]
    assert f'<a href="/example-team/resnet/runs/{run.run_id}/">wide-sky</a>' in rows[0]
    assert "demo alert" not in html and "charlie alert" not in html
    # Charlie sees his own alert, and none of the private team's.
    assert alert_messages(home(client, charlie)) == ["charlie alert"]


def test_home_shows_alerts_of_the_persons_runs_in_other_public_projects(
    client, alice, bob, public_team
):
    demo = ProjectFactory(entity=public_team, creator=alice, name="demo", visibility="public")
    add_member(public_team, bob)
    run = RunFactory(project=demo, author=bob)
    fire(run, "alert of bobs run")
    membership_remove(membership=Membership.objects.get(entity=public_team, user=bob))

    html = home(client, bob)

    assert alert_messages(html) == ["alert of bobs run"]
    assert run_links(html) == [f"/open-team/demo/runs/{run.run_id}/"]


def test_removed_member_no_longer_sees_the_private_teams_runs_or_alerts(
    client, alice, bob, team, membership_of
):
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    run = RunFactory(project=project, author=bob, name="bobs-run")
    fire(run, "loss is 2.5")
    html = home(client, bob)
    assert run_links(html) == [f"/example-team/resnet/runs/{run.run_id}/"]
    assert alert_messages(html) == ["loss is 2.5"]

    membership_remove(membership=membership_of(team, bob), actor=alice)
    html = home(client, bob)

    assert run_links(html) == []
    assert alert_messages(html) == []
    assert "bobs-run" not in html and "resnet" not in html
    assert 'id="no-recent-runs"' in html and 'id="no-recent-alerts"' in html


def test_outsider_sees_no_runs_or_alerts_of_a_private_team(client, alice, charlie, team):
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    run = RunFactory(project=project, author=alice, name="private-run")
    fire(run, "private alert")

    html = home(client, charlie)

    assert "private-run" not in html and "private alert" not in html
    assert 'id="no-recent-runs"' in html and 'id="no-recent-alerts"' in html


@pytest.mark.parametrize("size", [2, 30])
def test_home_costs_the_same_queries_for_2_and_30_runs_and_alerts(
    client, alice, team, public_team, django_assert_num_queries, size
):
    projects = [
        ProjectFactory(entity=entity, creator=alice, name=f"p-{entity.name}")
        for entity in (team, public_team, alice.personal_entity)
    ]
    for index in range(size):
        run = RunFactory(project=projects[index % 3], author=alice)
        fire(run, f"alert {index}", client=index % 2 == 0)
        published(projects[index % 3], alice, f"report {index}")
    client.force_login(alice)
    client.get("/")

    # session, user, teams with member counts, default entity, recent projects, runs, alerts,
    # reports
    with django_assert_num_queries(8):
        response = client.get("/")

    html = response.content.decode()
    assert len(run_links(html)) == min(size, HOME_RUNS)
    assert len(alert_messages(html)) == min(size, HOME_ALERTS)
    assert len(report_titles(html)) == min(size, HOME_REPORTS)


def published(project, author, title):
    report = report_create(project=project, title=title, actor=author)
    report_publish(report=report, actor=author)
    return report


def report_titles(html):
    if 'id="recent-reports"' not in html:
        return []
    table = html.split('id="recent-reports"')[1].split("</table>")[0]
    return re.findall(r'<td><a href="[^"]+/reports/[^"]+">([^<]+)</a></td>', table)


def test_home_lists_the_reports_published_in_the_persons_teams(
    client, alice, bob, charlie, team, public_team
):
    resnet = ProjectFactory(entity=team, creator=alice, name="resnet")
    elsewhere = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    first = published(resnet, alice, "Ablations")
    published(resnet, alice, "Baselines")
    report_create(project=resnet, title="Unfinished", actor=alice)
    published(elsewhere, alice, "Someone else's team")

    html = home(client, bob)

    # Newest publication first; drafts and other teams' reports are not "shared with" bob.
    assert report_titles(html) == ["Baselines", "Ablations"]
    report_publish(report=first, actor=alice)
    assert report_titles(home(client, bob)) == ["Ablations", "Baselines"]
    assert 'id="no-recent-reports"' in home(client, charlie)
