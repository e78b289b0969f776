"""The viewer role: granted by invitations and role changes, read-only permissions, and never
the default entity (a script without entity= logs there)."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from guardian.shortcuts import get_user_perms

from teams import selectors, services
from teams.models import Invitation, Membership, Role
from tests.factories import add_member

LINK = re.compile(r"http://testserver/invitations/[A-Za-z0-9_-]+/")


def perms(user, team) -> set[str]:
    return set(get_user_perms(user, team))


# Invitations


def test_admin_invites_a_viewer_and_the_email_says_so(
    client, team, alice, charlie, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("teams:invite", args=[team.name]),
            {"email": "charlie@example.com", "role": "viewer"},
        )
    assert response.status_code == 302
    assert Invitation.objects.get().role == Role.VIEWER
    [message] = mail.outbox
    assert message.to == ["charlie@example.com"]
    assert "to join the team example-team on Teamsite as viewer." in message.body
    assert "As a viewer you see the team's projects, runs and reports" in message.body
    html = message.alternatives[0][0]
    assert "on Teamsite as viewer." in html
    assert "As a viewer you see the team's projects" in html
    [link] = set(LINK.findall(message.body))

    charlie_default = selectors.default_entity_of(charlie)
    client.force_login(charlie)
    response = client.post(urlsplit(link).path, follow=True)
    body = response.content.decode()
    assert "your runs still go to your default entity" in body
    membership = Membership.objects.get(entity=team, user=charlie)
    assert membership.role == Role.VIEWER
    assert not membership.is_default
    assert perms(charlie, team) == {"view_entity"}
    assert selectors.default_entity_of(charlie) == charlie_default == charlie.personal_entity


def test_member_invitation_email_has_no_viewer_line(
    client, team, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("teams:invite", args=[team.name]),
            {"email": "dana@example.com", "role": "member"},
        )
    assert "As a viewer" not in mail.outbox[0].body


def test_members_cannot_invite_viewers(team, bob):
    with pytest.raises(services.TeamError, match="Only admins"):
        services.invitation_create(
            entity=team, inviter=bob, email="dana@example.com", role=Role.VIEWER
        )
    assert not Invitation.objects.exists()


def test_members_page_offers_the_viewer_role_and_explains_it(client, team, alice, vera):
    client.force_login(alice)
    body = client.get(reverse("teams:members", args=[team.name])).content.decode()
    assert '<option value="viewer" selected>Viewer</option>' in body
    assert 'id="roles-help"' in body
    invite_form = body.split('id="invite-form"')[1].split("</form>")[0]
    assert '<option value="viewer">Viewer</option>' in invite_form


def test_viewer_sees_the_members_list_with_roles_and_no_controls(client, team, vera):
    client.force_login(vera)
    body = client.get(reverse("teams:members", args=[team.name])).content.decode()
    row = body.split('id="member-vera"')[1].split("</tr>")[0]
    assert "<td> Viewer </td>" in " ".join(row.split())
    assert 'id="invite-form"' not in body
    assert "<select" not in body


# Joining and the default entity


def test_joining_as_viewer_keeps_the_default_entity(team, charlie):
    membership = add_member(team, charlie, Role.VIEWER)
    assert not membership.is_default
    assert selectors.default_entity_of(charlie) == charlie.personal_entity
    assert perms(charlie, team) == {"view_entity"}


def test_joining_as_member_makes_the_team_the_default(team, charlie):
    add_member(team, charlie, Role.MEMBER)
    assert selectors.default_entity_of(charlie) == team


def test_a_viewer_cannot_choose_the_team_as_default(client, team, vera):
    client.force_login(vera)
    client.post(reverse("teams:set_default_entity"), {"entity": team.name})
    assert selectors.default_entity_of(vera) == vera.personal_entity
    with pytest.raises(services.TeamError):
        services.default_entity_set(user=vera, entity=team)


def test_user_teams_page_offers_no_viewer_team_as_default(client, team, vera):
    client.force_login(vera)
    body = client.get(reverse("teams:user_teams")).content.decode()
    assert f'<option value="{team.name}"' not in body
    assert "Viewer" in body


# Role changes


def test_demoting_a_member_to_viewer_gives_back_their_personal_default(client, team, alice, bob):
    assert selectors.default_entity_of(bob) == team
    client.force_login(alice)
    client.post(reverse("teams:set_role", args=[team.name, "bob"]), {"role": "viewer"})
    membership = Membership.objects.get(entity=team, user=bob)
    assert membership.role == Role.VIEWER
    assert not membership.is_default
    assert selectors.default_entity_of(bob) == bob.personal_entity
    assert perms(bob, team) == {"view_entity"}


def test_demotion_keeps_a_default_that_is_elsewhere(team, public_team, bob):
    add_member(public_team, bob, Role.MEMBER)  # public_team is now bob's default
    services.membership_set_role(
        membership=Membership.objects.get(entity=team, user=bob), role=Role.VIEWER
    )
    assert selectors.default_entity_of(bob) == public_team


def test_promoting_a_viewer_to_member_grants_write(client, team, alice, vera):
    client.force_login(alice)
    client.post(reverse("teams:set_role", args=[team.name, "vera"]), {"role": "member"})
    assert Membership.objects.get(entity=team, user=vera).role == Role.MEMBER
    assert perms(vera, team) == {"view_entity", "write_entity"}
    # Their default stays where it was: they may choose the team on the settings page.
    assert selectors.default_entity_of(vera) == vera.personal_entity


def test_last_admin_cannot_become_a_viewer(client, team, alice):
    client.force_login(alice)
    client.post(reverse("teams:set_role", args=[team.name, "alice"]), {"role": "viewer"})
    assert Membership.objects.get(entity=team, user=alice).role == Role.ADMIN
    assert "admin_entity" in perms(alice, team)


def test_a_member_cannot_change_roles_to_viewer(client, team, bob, vera):
    client.force_login(bob)
    response = client.post(reverse("teams:set_role", args=[team.name, "vera"]), {"role": "member"})
    assert response.status_code == 403
    assert Membership.objects.get(entity=team, user=vera).role == Role.VIEWER


def test_a_service_account_is_never_a_viewer(team, public_team, sam):
    membership = Membership.objects.get(entity=team, user=sam)
    with pytest.raises(services.TeamError):
        services.membership_set_role(membership=membership, role=Role.VIEWER)
    assert Membership.objects.get(pk=membership.pk).role == Role.SERVICE
    with pytest.raises(services.TeamError):
        services.membership_add(entity=public_team, user=sam, role=Role.VIEWER)


def test_removing_a_viewer_takes_their_permissions(team, vera):
    services.membership_remove(membership=Membership.objects.get(entity=team, user=vera))
    assert perms(vera, team) == set()
    assert selectors.default_entity_of(vera) == vera.personal_entity
