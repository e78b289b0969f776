"""A team's privacy and its projects' visibility: turning privacy on makes every project
team-only (stored and audited); turning it off publishes nothing.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in the public open-team.
"""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from projects import services
from projects.models import Project
from teams.models import AuditEvent, Entity
from tests.factories import ProjectFactory, UserFactory


@pytest.fixture
def projects(public_team, alice):
    """open-team's projects: two public, one team-only."""
    return [
        ProjectFactory(entity=public_team, creator=alice, name=name, visibility=visibility)
        for name, visibility in [("demo", "public"), ("paper", "public"), ("internal", "team")]
    ]


def visibilities(team):
    return dict(Project.objects.filter(entity=team).values_list("name", "visibility"))


def project_events(team):
    return sorted(
        (event.actor_name, event.target, event.details)
        for event in AuditEvent.objects.filter(entity=team, verb=AuditEvent.Verb.PROJECT_UPDATED)
    )


MADE_TEAM_ONLY = {"visibility": "team", "because": "the team was made private"}


def set_privacy(client, team, on):
    url = reverse("projects:set_team_privacy", args=[team.name])
    return client.post(url, {"is_private": "on"} if on else {}, follow=True)


def outsider_status(client, charlie, path):
    client.force_login(charlie)
    return client.get(path).status_code


def test_turning_privacy_on_makes_every_project_team_only_and_audits_it(
    client, alice, public_team, projects
):
    client.force_login(alice)

    response = set_privacy(client, public_team, on=True)

    assert "open-team is now private" in response.content.decode()
    public_team.refresh_from_db()
    assert public_team.is_private
    assert visibilities(public_team) == {"demo": "team", "paper": "team", "internal": "team"}
    assert project_events(public_team) == [
        ("alice", "demo", MADE_TEAM_ONLY),
        ("alice", "paper", MADE_TEAM_ONLY),
    ]
    privacy = AuditEvent.objects.get(entity=public_team, verb=AuditEvent.Verb.PRIVACY_CHANGED)
    assert (privacy.actor_name, privacy.details) == ("alice", {"is_private": True})


def test_turning_privacy_off_publishes_nothing(client, alice, charlie, public_team, projects):
    client.force_login(alice)
    set_privacy(client, public_team, on=True)

    response = set_privacy(client, public_team, on=False)

    html = response.content.decode()
    assert "open-team is no longer private" in html
    assert "stay team-only until someone makes one public" in html
    public_team.refresh_from_db()
    assert not public_team.is_private
    assert visibilities(public_team) == {"demo": "team", "paper": "team", "internal": "team"}
    assert outsider_status(client, charlie, "/open-team/demo/") == 404
    client.logout()
    assert client.get("/open-team/demo/").status_code == 404
    assert client.get("/open-team/").status_code == 404


def test_a_project_made_public_after_privacy_is_off_is_public(
    client, alice, charlie, public_team, projects
):
    client.force_login(alice)
    set_privacy(client, public_team, on=True)
    set_privacy(client, public_team, on=False)

    client.post("/open-team/paper/settings/", {"description": "", "visibility": "public"})

    assert visibilities(public_team)["paper"] == "public"
    assert outsider_status(client, charlie, "/open-team/paper/") == 200
    assert outsider_status(client, charlie, "/open-team/demo/") == 404
    client.force_login(charlie)
    assert [p.name for p in client.get("/open-team/").context["projects"]] == ["paper"]


def test_privacy_on_with_nothing_public_writes_only_the_privacy_event(
    client, alice, team, public_team
):
    ProjectFactory(entity=public_team, creator=alice, name="internal")
    client.force_login(alice)

    set_privacy(client, public_team, on=True)

    assert project_events(public_team) == []


def test_only_admins_change_privacy(client, bob, charlie, team, public_team, projects):
    client.force_login(bob)
    assert set_privacy(client, team, on=False).status_code == 403
    client.force_login(charlie)
    assert set_privacy(client, public_team, on=True).status_code == 404
    assert Entity.objects.get(pk=team.pk).is_private
    assert visibilities(public_team) == {"demo": "public", "paper": "public", "internal": "team"}


# The Django admin goes through the same service.


@pytest.fixture
def operator(db):
    """A superuser who belongs to no team."""
    user = UserFactory(username="operator")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def admin_change(client, team, on):
    data = {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    if on:
        data["is_private"] = "on"
    return client.post(reverse("admin:teams_entity_change", args=[team.pk]), data)


def test_privacy_in_the_admin_makes_projects_team_only_and_publishes_nothing(
    client, operator, charlie, public_team, projects
):
    client.force_login(operator)

    assert admin_change(client, public_team, on=True).status_code == 302

    public_team.refresh_from_db()
    assert public_team.is_private
    assert visibilities(public_team) == {"demo": "team", "paper": "team", "internal": "team"}
    assert project_events(public_team) == [
        ("operator", "demo", MADE_TEAM_ONLY),
        ("operator", "paper", MADE_TEAM_ONLY),
    ]

    assert admin_change(client, public_team, on=False).status_code == 302

    public_team.refresh_from_db()
    assert not public_team.is_private
    assert visibilities(public_team) == {"demo": "team", "paper": "team", "internal": "team"}
    assert outsider_status(client, charlie, "/open-team/demo/") == 404


# Rows written before this rule


def test_migration_makes_public_projects_of_private_teams_team_only(
    alice, team, public_team, projects
):
    legacy = ProjectFactory(entity=team, creator=alice, name="legacy")
    Project.objects.filter(pk=legacy.pk).update(visibility=Project.Visibility.PUBLIC)
    migration = importlib.import_module("projects.migrations.0002_private_teams_projects_team_only")

    migration.make_private_teams_projects_team_only(apps, None)

    assert visibilities(team) == {"legacy": "team"}
    # A team that is not private keeps its public projects.
    assert visibilities(public_team) == {"demo": "public", "paper": "public", "internal": "team"}
    assert project_events(team) == [("", "legacy", MADE_TEAM_ONLY)]
    services.team_privacy_set(team=team, is_private=False, actor=alice)
    assert visibilities(team) == {"legacy": "team"}
