"""A team's viewer on the runs pages: she sees the private team's projects and runs, changes
none of them, and keeps views of her own (sharing one with the team is a write)."""

import pytest
from django.urls import reverse

from runs.models import Run, SavedView
from runs.saved_views import can_edit, saved_view_create
from teams import services
from teams.access import entity_permissions
from teams.models import Membership, Role
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="vision")


@pytest.fixture
def target(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="target")


@pytest.fixture
def bob_run(project, bob):
    return RunFactory(project=project, author=bob, run_id="bobrun1", name="bob-run", notes="n")


def test_viewer_sees_the_private_teams_project_and_runs(client, team, project, bob_run, vera):
    client.force_login(vera)
    entity_page = client.get(reverse("entity", args=[team.name]))
    assert entity_page.status_code == 200 and "vision" in entity_page.content.decode()
    page = client.get(project.get_absolute_url())
    assert page.status_code == 200 and "bob-run" in page.content.decode()
    run_page = client.get(bob_run.get_absolute_url())
    assert run_page.status_code == 200


def test_viewer_gets_no_move_or_delete_controls(client, project, bob_run, vera, bob):
    client.force_login(bob)
    member_page = client.get(project.get_absolute_url()).content.decode()
    client.force_login(vera)
    viewer_page = client.get(project.get_absolute_url()).content.decode()
    for control in ('data-open-dialog="#move-dialog"', ">Delete…</button>"):
        assert control in member_page
        assert control not in viewer_page


def test_viewer_cannot_edit_rename_move_or_delete_runs(client, project, target, bob_run, vera):
    client.force_login(vera)
    args = [project.entity.name, project.name, bob_run.run_id]
    assert client.post(reverse("runs:edit", args=args), {"notes": "x"}).status_code == 403
    assert client.post(reverse("runs:rename", args=args), {"name": "x"}).status_code == 403
    project_args = [project.entity.name, project.name]
    client.post(
        reverse("runs:move", args=project_args), {"run": bob_run.run_id, "target": target.path}
    )
    response = client.post(
        reverse("runs:delete", args=project_args),
        {"run": bob_run.run_id, "confirm": "1"},
        follow=True,
    )
    assert "You are a viewer in example-team; viewers cannot move or delete runs." in (
        response.content.decode()
    )
    bob_run.refresh_from_db()
    assert (bob_run.project, bob_run.name, bob_run.notes) == (project, "bob-run", "n")
    assert Run.objects.filter(pk=bob_run.pk).exists()


def test_viewer_saves_a_private_view_but_shares_none(client, project, vera):
    client.force_login(vera)
    url = reverse("runs:view_create", args=[project.entity.name, project.name])
    data = {"name": "mine", "kind": "table", "state": "state=failed"}
    assert client.post(url, data).status_code == 302
    assert SavedView.objects.filter(owner=vera, name="mine", shared=False).exists()
    response = client.post(url, {**data, "name": "ours", "shared": "on"})
    assert response.status_code == 400
    assert "viewers cannot share views with the team" in response.content.decode()
    assert not SavedView.objects.filter(name="ours").exists()


def test_the_views_menu_offers_a_viewer_no_sharing(client, project, vera, bob):
    client.force_login(vera)
    assert "Share with the team" not in client.get(project.get_absolute_url()).content.decode()
    client.force_login(bob)
    assert "Share with the team" in client.get(project.get_absolute_url()).content.decode()


def test_a_demoted_owner_no_longer_changes_their_shared_view(team, project, bob):
    view = saved_view_create(
        project=project, owner=bob, name="team view", shared=True, kind="table", state=""
    )
    services.membership_set_role(
        membership=Membership.objects.get(entity=team, user=bob), role=Role.VIEWER
    )
    project.viewer_entity_permissions = entity_permissions(bob, team)
    assert not can_edit(view, bob, project)
    private = saved_view_create(
        project=project, owner=bob, name="mine", shared=False, kind="table", state=""
    )
    assert can_edit(private, bob, project)
