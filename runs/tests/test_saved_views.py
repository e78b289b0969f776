"""Saved views: uniqueness, who sees them, who changes them, and the pages that do it."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from runs.models import SavedView
from runs.saved_views import (
    SavedViewError,
    can_edit,
    saved_view_create,
    views_visible,
)
from teams.access import entity_permissions
from teams.models import AuditEvent, Role
from tests.factories import ProjectFactory, add_member

STATE = "q=summary.acc+%3E+0.9&sort=-summary.acc&col=summary.acc&col=config.lr&cursor=abc"


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="vision")


@pytest.fixture
def public_project(public_team, alice, bob):
    add_member(public_team, bob, Role.MEMBER)
    return ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")


def seen_by(project, user):
    project.viewer_entity_permissions = entity_permissions(user, project.entity)
    return project


def save(project, owner, name="best", shared=False, state=STATE, kind=SavedView.Kind.TABLE):
    return saved_view_create(
        project=project, owner=owner, name=name, shared=shared, kind=kind, state=state
    )


def url(name, project, *args):
    return reverse(name, args=[project.entity.name, project.name, *args])


# The service


def test_a_view_keeps_the_table_state_but_not_the_cursor(project, bob):
    view = save(project, bob)
    assert view.params == [
        ["q", "summary.acc > 0.9"],
        ["sort", "-summary.acc"],
        ["col", "summary.acc"],
        ["col", "config.lr"],
    ]
    target = urlsplit(view.page_url())
    assert target.path == project.get_absolute_url()
    assert parse_qs(target.query)["col"] == ["summary.acc", "config.lr"]
    assert AuditEvent.objects.filter(entity=project.entity, verb="saved_view.create").exists()


def test_names_are_unique_per_project_and_owner(project, alice, bob):
    save(project, bob)
    with pytest.raises(SavedViewError, match="already have a view"):
        save(project, bob, name=" best ")
    save(project, alice)  # another owner may use the name
    assert SavedView.objects.filter(project=project, name="best").count() == 2


def test_a_bad_query_is_refused_before_saving(project, bob):
    with pytest.raises(SavedViewError, match="query has a mistake") as caught:
        save(project, bob, state="q=summary.acc+%3E%3E+1")
    assert caught.value.field == "state"
    assert not SavedView.objects.exists()


def test_private_views_are_seen_by_their_owner_only(project, alice, bob, erin):
    private = save(project, bob, name="mine")
    shared = save(project, bob, name="ours", shared=True)
    assert set(views_visible(project, bob)) == {private, shared}
    assert list(views_visible(project, erin)) == [shared]
    assert list(views_visible(project, alice)) == [shared]


def test_owner_and_admin_edit_shared_views_other_members_do_not(project, alice, bob, erin):
    shared = save(project, bob, name="ours", shared=True)
    private = save(project, bob, name="mine")
    assert can_edit(shared, bob, seen_by(project, bob))
    assert can_edit(shared, alice, seen_by(project, alice))
    assert not can_edit(shared, erin, seen_by(project, erin))
    assert not can_edit(private, alice, seen_by(project, alice))


# The pages


def test_member_saves_a_view_from_the_table_and_it_opens_there(client, project, bob):
    client.force_login(bob)
    response = client.post(
        url("runs:view_create", project),
        {"name": "accurate", "shared": "on", "kind": "table", "state": STATE},
    )
    view = SavedView.objects.get(project=project, owner=bob)
    assert view.shared and view.name == "accurate"
    assert response.status_code == 302 and response.url == view.page_url()
    opened = client.get(url("runs:view_open", project, view.key))
    assert opened.url == view.page_url()
    table = client.get(project.get_absolute_url())
    assert "accurate" in table.content.decode()


def test_a_bad_query_gets_a_form_error(client, project, bob):
    client.force_login(bob)
    response = client.post(
        url("runs:view_create", project),
        {"name": "broken", "kind": "table", "state": "q=summary.acc+%3E%3E+1"},
    )
    assert response.status_code == 400
    assert "The query has a mistake" in response.content.decode()
    assert not SavedView.objects.exists()


def test_other_member_cannot_see_a_private_view_or_change_a_shared_one(client, project, bob, erin):
    private = save(project, bob, name="mine")
    shared = save(project, bob, name="ours", shared=True)
    client.force_login(erin)
    assert client.get(url("runs:view_open", project, private.key)).status_code == 404
    assert "mine" not in client.get(project.get_absolute_url()).content.decode()
    for action in ("runs:view_rename", "runs:view_update", "runs:view_delete"):
        response = client.post(url(action, project, shared.key), {"name": "x", "state": ""})
        assert response.status_code == 403
    shared.refresh_from_db()
    assert shared.name == "ours" and shared.params


def test_admin_renames_updates_and_deletes_a_shared_view(client, project, alice, bob):
    shared = save(project, bob, name="ours", shared=True)
    client.force_login(alice)
    client.post(url("runs:view_rename", project, shared.key), {"name": "team best"})
    client.post(url("runs:view_update", project, shared.key), {"state": "state=failed"})
    shared.refresh_from_db()
    assert shared.name == "team best" and shared.params == [["state", "failed"]]
    client.post(url("runs:view_delete", project, shared.key))
    assert not SavedView.objects.filter(pk=shared.pk).exists()


def test_admin_cannot_touch_a_private_view(client, project, alice, bob):
    private = save(project, bob, name="mine")
    client.force_login(alice)
    assert client.post(url("runs:view_delete", project, private.key)).status_code == 404
    assert SavedView.objects.filter(pk=private.pk).exists()


def test_outsider_gets_404_for_every_view_url(client, project, bob, charlie):
    shared = save(project, bob, name="ours", shared=True)
    client.force_login(charlie)
    assert client.get(url("runs:view_open", project, shared.key)).status_code == 404
    assert client.post(url("runs:view_create", project), {"name": "x"}).status_code == 404
    for action in ("runs:view_rename", "runs:view_update", "runs:view_delete"):
        assert client.post(url(action, project, shared.key), {"name": "x"}).status_code == 404
    assert SavedView.objects.get(pk=shared.pk).name == "ours"


def test_anonymous_visitor_of_a_public_project_sees_shared_views_but_cannot_save(
    client, public_project, bob
):
    shared = save(public_project, bob, name="ours", shared=True)
    private = save(public_project, bob, name="mine")
    page = client.get(public_project.get_absolute_url()).content.decode()
    assert "ours" in page and "mine" not in page and "Save view" not in page
    assert client.get(url("runs:view_open", public_project, shared.key)).status_code == 302
    assert client.get(url("runs:view_open", public_project, private.key)).status_code == 404
    response = client.post(url("runs:view_create", public_project), {"name": "x"})
    assert response.status_code == 302 and "/login" in response.url
    assert SavedView.objects.count() == 2


def test_signed_in_outsider_of_a_public_project_cannot_save(client, public_project, charlie):
    client.force_login(charlie)
    response = client.post(
        url("runs:view_create", public_project), {"name": "x", "kind": "table", "state": ""}
    )
    assert response.status_code == 403
    assert not SavedView.objects.exists()


def test_the_views_menu_costs_the_same_whatever_the_number_of_views(
    client, project, bob, django_assert_max_num_queries
):
    client.force_login(bob)
    client.get(project.get_absolute_url())  # warm the session and caches
    with django_assert_max_num_queries(40) as few:
        client.get(project.get_absolute_url())
    for index in range(15):
        save(project, bob, name=f"view {index}", shared=index % 2 == 0)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(project.get_absolute_url())


def test_a_leaderboard_view_keeps_its_parameters_and_opens_the_leaderboard(project, bob):
    view = save(
        project,
        bob,
        kind=SavedView.Kind.LEADERBOARD,
        state="metric=summary.acc&goal=min&group=config.dataset&sort=name&q=state+%3D+finished",
    )
    assert view.params == [
        ["q", "state = finished"],
        ["metric", "summary.acc"],
        ["goal", "min"],
        ["group", "config.dataset"],
    ]
    leaderboard = reverse("runs:leaderboard", args=[project.entity.name, project.name])
    assert view.page_url().startswith(f"{leaderboard}?")
