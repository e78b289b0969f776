"""Entity pages, project pages, creating projects and project settings: who may see and do what.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider), sam (the team's service account); alice alone in the public
open-team.
"""

from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages

from projects import services as project_services
from projects.models import Project
from runs.models import Run
from teams import services
from teams.models import AuditEvent
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def resnet(team, alice):
    """A project of the private team, created by alice."""
    return ProjectFactory(entity=team, creator=alice, name="resnet", description="Sweeps.")


@pytest.fixture
def bert(team, bob):
    """A project of the private team, created by bob (a member)."""
    return ProjectFactory(entity=team, creator=bob, name="bert")


@pytest.fixture
def open_public(public_team, alice):
    return ProjectFactory(entity=public_team, creator=alice, name="demo", visibility="public")


@pytest.fixture
def open_internal(public_team, alice):
    return ProjectFactory(entity=public_team, creator=alice, name="internal")


def login(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def projects_listed(response):
    return [project.name for project in response.context["projects"]]


def snapshot():
    return sorted(Project.objects.values_list("entity__name", "name", "description", "visibility"))


def make_public_then_private(project, admin):
    """The project is made public while its team is not private, then the team goes private."""
    project_services.team_privacy_set(team=project.entity, is_private=False, actor=admin)
    project_services.project_update(
        project=project, actor=admin, description="", visibility=Project.Visibility.PUBLIC
    )
    project_services.team_privacy_set(team=project.entity, is_private=True, actor=admin)


def assert_sent_to_login(response, url):
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={quote(url)}"


# The entity page


def test_member_sees_every_project_and_the_members(client, bob, resnet, bert):
    login(client, bob)
    response = client.get("/example-team/")
    assert response.status_code == 200
    assert projects_listed(response) == ["bert", "resnet"]
    assert [m.user.username for m in response.context["people"]] == ["alice", "bob"]
    body = response.content.decode()
    assert "<h2>Members</h2>" in body
    assert "New project" in body


def test_service_accounts_are_not_listed_as_members(client, bob, sam, resnet):
    login(client, bob)
    response = client.get("/example-team/")
    assert "sam" not in [m.user.username for m in response.context["people"]]


@pytest.mark.parametrize("who", ["charlie", "anonymous"])
def test_outsider_gets_404_on_a_private_team(client, alice, charlie, resnet, who):
    # Even a project that was public before the team went private stays hidden.
    make_public_then_private(resnet, alice)
    login(client, charlie if who == "charlie" else None)
    assert client.get("/example-team/").status_code == 404


@pytest.mark.parametrize("who", ["charlie", "anonymous"])
def test_outsider_sees_only_public_projects_and_no_members(
    client, charlie, open_public, open_internal, who
):
    login(client, charlie if who == "charlie" else None)
    response = client.get("/open-team/")
    assert response.status_code == 200
    assert projects_listed(response) == ["demo"]
    body = response.content.decode()
    assert "internal" not in body
    assert "<h2>Members</h2>" not in body
    assert "alice" not in body
    assert "New project" not in body


@pytest.mark.parametrize("who", ["charlie", "anonymous"])
def test_outsider_gets_404_on_an_entity_with_nothing_visible(client, charlie, open_internal, who):
    login(client, charlie if who == "charlie" else None)
    assert client.get("/open-team/").status_code == 404


def test_unknown_entity_is_404(client, alice):
    login(client, alice)
    assert client.get("/no-such-entity/").status_code == 404


def test_personal_entity_shows_its_public_projects_to_others(client, alice, charlie):
    ProjectFactory(entity=alice.personal_entity, creator=alice, name="notes", visibility="public")
    ProjectFactory(entity=alice.personal_entity, creator=alice, name="secret")
    login(client, charlie)
    response = client.get("/alice/")
    assert projects_listed(response) == ["notes"]
    login(client, alice)
    response = client.get("/alice/")
    assert projects_listed(response) == ["notes", "secret"]
    assert response.context["people"] == []


def test_personal_entity_without_public_projects_is_404_to_others(client, alice, charlie):
    ProjectFactory(entity=alice.personal_entity, creator=alice, name="secret")
    login(client, charlie)
    assert client.get("/alice/").status_code == 404
    # Its owner sees their own, empty or not.
    assert client.get("/charlie/").status_code == 200


# The project page


@pytest.mark.parametrize("who", ["anonymous", "charlie", "bob", "alice"])
def test_public_project_of_a_public_team_is_visible_to_everyone(
    client, alice, bob, charlie, open_public, who
):
    RunFactory(project=open_public, run_id="r1", author=alice)
    login(client, {"anonymous": None, "charlie": charlie, "bob": bob, "alice": alice}[who])
    response = client.get("/open-team/demo/")
    assert response.status_code == 200
    assert [run.run_id for run in response.context["page"].runs] == ["r1"]
    assert ('href="/open-team/demo/settings/"' in response.content.decode()) == (who == "alice")


@pytest.mark.parametrize("who", ["anonymous", "charlie"])
def test_team_project_of_a_public_team_is_404_to_outsiders(client, charlie, open_internal, who):
    login(client, charlie if who == "charlie" else None)
    assert client.get("/open-team/internal/").status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "charlie"])
def test_private_teams_privacy_wins_over_project_visibility(client, alice, charlie, resnet, who):
    make_public_then_private(resnet, alice)
    login(client, charlie if who == "charlie" else None)
    assert client.get("/example-team/resnet/").status_code == 404


def test_member_sees_a_team_project(client, bob, resnet):
    login(client, bob)
    response = client.get("/example-team/resnet/")
    assert response.status_code == 200
    assert "Sweeps." in response.content.decode()
    # bob neither admins the team nor created resnet: no settings link.
    assert "/example-team/resnet/settings/" not in response.content.decode()


def test_project_creator_sees_the_settings_link(client, bob, bert):
    login(client, bob)
    assert "/example-team/bert/settings/" in client.get("/example-team/bert/").content.decode()


def test_unknown_project_is_404(client, bob, resnet):
    login(client, bob)
    assert client.get("/example-team/nothing/").status_code == 404
    # Names are matched as written.
    assert client.get("/example-team/RESNET/").status_code == 404


# Creating a project


def test_anonymous_is_sent_to_login_to_create_a_project(client):
    assert_sent_to_login(client.get("/projects/new/"), "/projects/new/")
    assert_sent_to_login(client.post("/projects/new/", {}), "/projects/new/")


def test_create_form_offers_the_entities_one_can_write_to(client, bob, team, public_team):
    login(client, bob)
    response = client.get("/projects/new/", {"entity": "example-team"})
    assert response.status_code == 200
    form = response.context["form"]
    assert sorted(e.name for e in form.fields["entity"].queryset) == ["bob", "example-team"]
    assert form["entity"].value() == "example-team"


def test_member_creates_a_project(client, bob, team):
    login(client, bob)
    response = client.post(
        "/projects/new/",
        {"entity": "example-team", "name": "vit", "description": "ViT", "visibility": "team"},
    )
    assert response.status_code == 302
    assert response.url == "/example-team/vit/"
    project = Project.objects.get(entity=team, name="vit")
    assert (project.created_by, project.description, project.visibility) == (bob, "ViT", "team")
    assert messages_of(response) == ["Project example-team/vit created."]
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.PROJECT_CREATED)
    assert (event.entity, event.actor, event.target) == (team, bob, "vit")


def test_private_teams_project_is_forced_to_team_visibility(client, bob, team):
    login(client, bob)
    client.post("/projects/new/", {"entity": "example-team", "name": "vit", "visibility": "public"})
    assert Project.objects.get(name="vit").visibility == Project.Visibility.TEAM


def test_public_teams_project_may_be_public(client, alice, public_team):
    login(client, alice)
    client.post("/projects/new/", {"entity": "open-team", "name": "demo", "visibility": "public"})
    assert Project.objects.get(name="demo").is_public


def test_personal_project(client, bob):
    login(client, bob)
    response = client.post(
        "/projects/new/", {"entity": "bob", "name": "scratch", "visibility": "team"}
    )
    assert response.url == "/bob/scratch/"


@pytest.mark.parametrize(
    ("entity", "name", "error"),
    [
        ("example-team", "has space", "Use up to 128 letters"),
        ("example-team", "-dash-first", "Use up to 128 letters"),
        ("example-team", "x" * 129, "at most 128 characters"),
        ("example-team", "", "This field is required."),
        ("example-team", "settings", "“settings” is reserved."),
        ("example-team", "New", "“New” is reserved."),
        ("example-team", "Projects", "“Projects” is reserved."),
        ("example-team", "RESNET", "example-team already has a project named “RESNET”."),
        ("open-team", "fine", None),  # not a team bob writes to
        ("nobody", "fine", None),
    ],
)
def test_invalid_project_is_refused_and_nothing_created(client, bob, resnet, entity, name, error):
    login(client, bob)
    before = snapshot()
    response = client.post("/projects/new/", {"entity": entity, "name": name, "visibility": "team"})
    assert response.status_code == 400
    form = response.context["form"]
    if error:
        assert error in " ".join(form.errors["name"])
    else:
        assert "entity" in form.errors
    assert snapshot() == before
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.PROJECT_CREATED, target=name)


# Project settings: entity admins and the project's creator


SETTINGS = "/example-team/{}/settings/"
DELETE = "/example-team/{}/settings/delete/"


@pytest.mark.parametrize(
    ("who", "project"), [("alice", "resnet"), ("alice", "bert"), ("bob", "bert")]
)
def test_admin_and_creator_see_project_settings(client, alice, bob, resnet, bert, who, project):
    login(client, {"alice": alice, "bob": bob}[who])
    response = client.get(SETTINGS.format(project))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Delete this project" in body
    # A private team's project is not offered "public".
    assert 'value="public"' not in body


def test_project_settings_refuse_everyone_else(client, bob, charlie, sam, resnet):
    url = SETTINGS.format("resnet")
    data = {"description": "changed", "visibility": "team"}
    before = snapshot()
    login(client, bob)
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    login(client, charlie)
    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404
    login(client, None)
    assert_sent_to_login(client.get(url), url)
    assert_sent_to_login(client.post(url, data), url)
    login(client, sam)  # the web drops a service account's session
    assert_sent_to_login(client.post(url, data), url)
    assert snapshot() == before


def test_outsider_gets_403_on_a_public_projects_settings(client, charlie, open_public):
    # It is no secret that the project exists, only that charlie cannot change it.
    login(client, charlie)
    assert client.get("/open-team/demo/settings/").status_code == 403


def test_creator_who_left_the_team_loses_the_settings(client, alice, bob, bert, membership_of):
    services.membership_remove(membership=membership_of(bert.entity, bob), actor=alice)
    login(client, bob)
    assert client.get(SETTINGS.format("bert")).status_code == 404


def test_creator_updates_project_settings(client, bob, bert):
    login(client, bob)
    url = SETTINGS.format("bert")
    response = client.post(url, {"description": "GLUE", "visibility": "team"})
    assert response.status_code == 302
    assert response.url == url
    bert.refresh_from_db()
    assert bert.description == "GLUE"
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.PROJECT_UPDATED)
    assert (event.actor_name, event.target, event.details) == ("bob", "bert", {"description": True})


def test_private_teams_project_cannot_be_made_public(client, alice, resnet):
    login(client, alice)
    response = client.post(SETTINGS.format("resnet"), {"description": "", "visibility": "public"})
    assert response.status_code == 400
    assert "visibility" in response.context["form"].errors
    resnet.refresh_from_db()
    assert resnet.visibility == Project.Visibility.TEAM


def test_public_teams_project_can_be_made_public_and_back(client, alice, open_internal):
    login(client, alice)
    url = "/open-team/internal/settings/"
    client.post(url, {"description": "", "visibility": "public"})
    open_internal.refresh_from_db()
    assert open_internal.is_public
    client.post(url, {"description": "", "visibility": "team"})
    open_internal.refresh_from_db()
    assert not open_internal.is_public
    assert list(
        AuditEvent.objects.filter(verb=AuditEvent.Verb.PROJECT_UPDATED)
        .order_by("id")
        .values_list("details", flat=True)
    ) == [{"visibility": "public"}, {"visibility": "team"}]


# Deleting a project


def test_delete_needs_the_typed_name(client, alice, resnet):
    RunFactory(project=resnet, run_id="r1")
    login(client, alice)
    before = snapshot()
    for data in [{"confirm_name": "wrong"}, {"confirm_name": "RESNET"}, {}]:
        response = client.post(DELETE.format("resnet"), data)
        assert response.status_code == 302
        assert response.url == SETTINGS.format("resnet")
        assert messages_of(response)[-1] == (
            "Type the project's name, resnet, to move it to the trash."
        )
    assert snapshot() == before
    assert Run.objects.count() == 1
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.PROJECT_DELETED).exists()


@pytest.mark.parametrize(("who", "project"), [("alice", "bert"), ("bob", "bert")])
def test_admin_and_creator_move_a_project_with_its_runs_to_the_trash(
    client, alice, bob, resnet, bert, who, project
):
    RunFactory(project=bert, run_id="r1")
    RunFactory(project=bert, run_id="r2")
    RunFactory(project=resnet, run_id="r1")
    login(client, {"alice": alice, "bob": bob}[who])
    response = client.post(DELETE.format(project), {"confirm_name": project})
    assert response.status_code == 302
    assert response.url == "/example-team/"
    [message] = messages_of(response)
    assert message.startswith("Project example-team/bert and its runs were moved to the trash")
    assert 'href="/example-team/projects/trash/#trashed-bert"' in message
    assert not Project.objects.filter(name="bert").exists()
    assert Project.with_trashed.get(name="bert").trashed_by.username == who
    assert list(Run.objects.values_list("project__name", "run_id")) == [("resnet", "r1")]
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.PROJECT_DELETED)
    assert (event.actor_name, event.target, event.details) == (who, "bert", {"runs": 2})


def test_delete_refuses_everyone_else(client, bob, charlie, resnet):
    url = DELETE.format("resnet")
    data = {"confirm_name": "resnet"}
    login(client, bob)
    assert client.post(url, data).status_code == 403
    login(client, charlie)
    assert client.post(url, data).status_code == 404
    login(client, None)
    assert_sent_to_login(client.post(url, data), url)
    assert Project.objects.filter(name="resnet").exists()
    login(client, bob)
    assert client.get(url).status_code == 405
