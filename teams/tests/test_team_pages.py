"""Every team page and action: who may use it, and what it changes.

The cast comes from tests/personas.py: alice (admin), bob (member), charlie (outsider), sam (the
team's service account), in the private team example-team; alice also runs open-team alone.
"""

import re
from datetime import timedelta
from html import escape as html_escape
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import get_perms

from accounts.models import ApiKey
from teams import selectors, services
from teams.models import Entity, EntityUserObjectPermission, Invitation, Membership, Role
from tests.factories import PASSWORD, UserFactory, add_member

User = get_user_model()


@pytest.fixture
def invitation(team, alice):
    """A pending invitation of example-team, sent long enough ago to be resent."""
    invitation, _link = services.invitation_create(
        entity=team, inviter=alice, email="dana@example.com", role=Role.MEMBER
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(minutes=5)
    )
    return invitation


@pytest.fixture
def sam_key(sam):
    return sam.api_keys.get()


@pytest.fixture
def world(team, public_team, sam, sam_key, invitation):
    return {"team": team, "sam": sam, "key": sam_key, "invitation": invitation}


def snapshot():
    """Everything a team action could change, to prove that a refused request changed nothing."""
    return {
        "entities": set(Entity.objects.values_list("name", "is_private")),
        "memberships": set(
            Membership.objects.values_list("entity__name", "user__username", "role", "is_default")
        ),
        "invitations": set(
            Invitation.objects.values_list("email", "token_hash", "revoked_at", "accepted_at")
        ),
        "users": set(User.objects.values_list("username", flat=True)),
        "api_keys": set(ApiKey.objects.values_list("key_hash", flat=True)),
        "permissions": set(
            EntityUserObjectPermission.objects.values_list(
                "user__username", "content_object__name", "permission__codename"
            )
        ),
    }


def page(response):
    return response.content.decode()


# Every protected team endpoint: (method, url, data). The data is a valid request, so that a
# missing check would show up as a change.
def _url(name, *args):
    return lambda w: reverse(name, args=[w["team"].name, *args])


ADMIN_ONLY = {
    "settings": ("get", _url("teams:settings"), {}),
    "set_privacy": ("post", _url("projects:set_team_privacy"), {}),
    "service_accounts": ("get", _url("teams:service_accounts"), {}),
    "invite": ("post", _url("teams:invite"), {"email": "eve@example.com", "role": "admin"}),
    "resend_invitation": (
        "post",
        lambda w: reverse("teams:resend_invitation", args=["example-team", w["invitation"].pk]),
        {},
    ),
    "revoke_invitation": (
        "post",
        lambda w: reverse("teams:revoke_invitation", args=["example-team", w["invitation"].pk]),
        {},
    ),
    "set_role": ("post", _url("teams:set_role", "bob"), {"role": "admin"}),
    "remove_member_confirmation": ("get", _url("teams:remove_member", "bob"), {}),
    "remove_member": ("post", _url("teams:remove_member", "bob"), {}),
    "create_service_account": ("post", _url("teams:create_service_account"), {"name": "ci"}),
    "create_service_account_key": (
        "post",
        _url("teams:create_service_account_key", "sam"),
        {"label": "nightly"},
    ),
    "revoke_service_account_key": (
        "post",
        lambda w: reverse(
            "teams:revoke_service_account_key", args=["example-team", "sam", w["key"].pk]
        ),
        {},
    ),
    "delete_service_account": ("post", _url("teams:delete_service_account", "sam"), {}),
}
MEMBERS_ONLY = {
    "members": ("get", _url("teams:members"), {}),
    "leave_confirmation": ("get", lambda w: reverse("teams:leave", args=["example-team"]), {}),
    "leave": ("post", lambda w: reverse("teams:leave", args=["example-team"]), {}),
}
TEAM_ENDPOINTS = {**ADMIN_ONLY, **MEMBERS_ONLY}
ACCOUNT_ENDPOINTS = {
    "user_teams": ("get", lambda w: reverse("teams:user_teams"), {}),
    "create_team_form": ("get", lambda w: reverse("teams:create"), {}),
    "create_team": ("post", lambda w: reverse("teams:create"), {"name": "new-team"}),
    "set_default_entity": (
        "post",
        lambda w: reverse("teams:set_default_entity"),
        {"entity": "example-team"},
    ),
}
ALL_ENDPOINTS = {**TEAM_ENDPOINTS, **ACCOUNT_ENDPOINTS}


def request(client, world, endpoint):
    method, url, data = endpoint
    return getattr(client, method)(url(world), data)


# Who may use what. One test per endpoint walks the whole cast through it: the refused requests
# change nothing, then the same request succeeds for the role it is meant for.


def assert_refused(client, world, endpoint, user, status):
    if user is None:
        client.logout()
    else:
        client.force_login(user)
    before = snapshot()
    response = request(client, world, endpoint)
    assert response.status_code == status, user
    assert snapshot() == before, user
    return response


def assert_sent_to_login(response, world, endpoint):
    assert response.url == f"/accounts/login/?next={quote(endpoint[1](world))}"


# (status for the admin, whether it writes)
ADMIN_SUCCESS = {
    "settings": (200, False),
    "set_privacy": (302, True),
    "service_accounts": (200, False),
    "invite": (302, True),
    "resend_invitation": (302, True),
    "revoke_invitation": (302, True),
    "set_role": (302, True),
    "remove_member_confirmation": (200, False),
    "remove_member": (302, True),
    "create_service_account": (200, True),
    "create_service_account_key": (200, True),
    "revoke_service_account_key": (302, True),
    "delete_service_account": (302, True),
}


@pytest.mark.parametrize("name", ADMIN_ONLY)
def test_admin_only_endpoint_refuses_everyone_else(client, world, alice, bob, charlie, name):
    endpoint = ADMIN_ONLY[name]
    assert_refused(client, world, endpoint, bob, 403)
    assert_refused(client, world, endpoint, charlie, 404)
    # A session forced onto a service account is dropped: the site is for people only.
    assert_sent_to_login(
        assert_refused(client, world, endpoint, world["sam"], 302), world, endpoint
    )
    assert_sent_to_login(assert_refused(client, world, endpoint, None, 302), world, endpoint)

    client.force_login(alice)
    before = snapshot()
    status, writes = ADMIN_SUCCESS[name]
    assert request(client, world, endpoint).status_code == status
    assert (snapshot() != before) == writes


# (status for bob, whether bob is still in the team afterwards)
MEMBER_SUCCESS = {
    "members": (200, True),
    "leave_confirmation": (200, True),
    "leave": (302, False),
}


@pytest.mark.parametrize("name", MEMBERS_ONLY)
def test_member_endpoint_refuses_outsiders(client, world, bob, charlie, name):
    endpoint = MEMBERS_ONLY[name]
    assert_refused(client, world, endpoint, charlie, 404)
    assert_sent_to_login(
        assert_refused(client, world, endpoint, world["sam"], 302), world, endpoint
    )
    assert_sent_to_login(assert_refused(client, world, endpoint, None, 302), world, endpoint)

    client.force_login(bob)
    status, still_a_member = MEMBER_SUCCESS[name]
    assert request(client, world, endpoint).status_code == status
    assert Membership.objects.filter(entity=world["team"], user=bob).exists() == still_a_member


ACCOUNT_SUCCESS = {
    "user_teams": 200,
    "create_team_form": 200,
    "create_team": 302,
    "set_default_entity": 302,
}


@pytest.mark.parametrize("name", ACCOUNT_ENDPOINTS)
def test_account_endpoint_needs_a_person_signed_in(client, world, bob, name):
    endpoint = ACCOUNT_ENDPOINTS[name]
    assert_sent_to_login(
        assert_refused(client, world, endpoint, world["sam"], 302), world, endpoint
    )
    assert_sent_to_login(assert_refused(client, world, endpoint, None, 302), world, endpoint)

    client.force_login(bob)
    assert request(client, world, endpoint).status_code == ACCOUNT_SUCCESS[name]
    if name == "create_team":
        assert Membership.objects.get(entity__name="new-team").user == bob


def test_outsider_gets_404_on_a_public_team_too(client, public_team, charlie):
    # Public means its projects may be public; who is in the team stays the team's business.
    client.force_login(charlie)
    assert client.get(reverse("teams:members", args=["open-team"])).status_code == 404


def test_personal_entities_have_no_team_pages(client, alice, bob):
    client.force_login(alice)
    for name in ["teams:members", "teams:settings", "teams:service_accounts", "teams:leave"]:
        assert client.get(reverse(name, args=["alice"])).status_code == 404


def test_unknown_team_gets_404(client, alice):
    client.force_login(alice)
    assert client.get(reverse("teams:members", args=["no-such-team"])).status_code == 404


@pytest.mark.parametrize(
    "url_name", ["projects:set_team_privacy", "teams:invite", "teams:create_service_account"]
)
def test_actions_refuse_get(client, team, alice, url_name):
    client.force_login(alice)
    before = snapshot()
    assert client.get(reverse(url_name, args=["example-team"])).status_code == 405
    assert snapshot() == before


# Members page


def test_admin_sees_members_with_controls(client, world, alice):
    client.force_login(alice)
    response = client.get(reverse("teams:members", args=["example-team"]))
    assert response.status_code == 200
    html = page(response)
    assert 'id="member-alice"' in html
    assert 'id="member-bob"' in html
    assert 'id="member-sam@example-team"' not in html  # bots are on their own page
    assert 'id="invite-form"' in html
    assert 'aria-label="Role of bob"' in html
    assert reverse("teams:remove_member", args=["example-team", "bob"]) in html
    assert "dana@example.com" in html  # the pending invitation
    assert reverse("teams:settings", args=["example-team"]) in html


def test_member_sees_members_read_only(client, world, bob):
    client.force_login(bob)
    response = client.get(reverse("teams:members", args=["example-team"]))
    assert response.status_code == 200
    html = page(response)
    assert 'id="member-alice"' in html
    assert 'id="member-bob"' in html
    assert 'id="invite-form"' not in html
    assert '<select name="role"' not in html
    assert "/remove/" not in html
    assert "dana@example.com" not in html  # invitations are for admins
    assert 'id="invitations"' not in html
    assert reverse("teams:settings", args=["example-team"]) not in html
    assert reverse("teams:service_accounts", args=["example-team"]) not in html


# Privacy


def test_admin_turns_privacy_off_and_on(client, team, alice):
    client.force_login(alice)
    url = reverse("projects:set_team_privacy", args=["example-team"])
    assert team.is_private

    response = client.post(url, {}, follow=True)
    team.refresh_from_db()
    assert not team.is_private
    html = page(response)
    assert "example-team is no longer private" in html
    assert '<strong id="privacy-state">not private</strong>' in html

    response = client.post(url, {"is_private": "on"}, follow=True)
    team.refresh_from_db()
    assert team.is_private
    assert "example-team is now private" in page(response)
    assert '<strong id="privacy-state">private</strong>' in page(response)


def test_settings_page_shows_privacy_state(client, team, public_team, alice):
    client.force_login(alice)
    private = page(client.get(reverse("teams:settings", args=["example-team"])))
    public = page(client.get(reverse("teams:settings", args=["open-team"])))
    assert 'id="id_is_private" checked' in private
    assert 'id="id_is_private" checked' not in public


# Invitations from the members page


def test_admin_invites_by_email(client, team, alice):
    client.force_login(alice)
    response = client.post(
        reverse("teams:invite", args=["example-team"]),
        {"email": " dana@example.com ", "role": "admin"},
    )
    members_url = reverse("teams:members", args=["example-team"])
    assert response.url == members_url  # a reload does not send it again
    invitation = Invitation.objects.get()
    assert (invitation.entity, invitation.email, invitation.role) == (
        team,
        "dana@example.com",
        "admin",
    )
    assert invitation.inviter == alice
    assert invitation.is_pending
    # The members page shows the link to the inviter, once, and it is the one that works.
    response = client.get(members_url)
    html = page(response)
    assert "Invitation sent" in html
    assert "to <strong>dana@example.com</strong>" in html
    assert "no-store" in response["Cache-Control"]
    assert 'href="/teams/example-team/members/" aria-current="page"' in html
    link = re.search(r'<code id="secret">(http://testserver/invitations/[^<]+/)</code>', html)
    assert services.invitation_for_token(link.group(1).split("/")[-2]) == invitation
    html = page(client.get(members_url))
    assert "Invitation sent" not in html
    assert 'id="secret"' not in html


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not-an-email", "role": "member"},
        {"email": "", "role": "member"},
        {"email": "dana@example.com", "role": "service"},
        {"email": "dana@example.com", "role": "owner"},
    ],
    ids=["bad-email", "no-email", "service-role", "unknown-role"],
)
def test_invalid_invitation_is_a_form_error(client, team, alice, data, mailoutbox):
    client.force_login(alice)
    response = client.post(reverse("teams:invite", args=["example-team"]), data)
    assert response.status_code == 400
    assert response.context["invite_form"].errors
    assert 'id="invite-form"' in page(response)
    # Answered at the form's URL, the page still marks Members in the sidebar.
    assert 'href="/teams/example-team/members/" aria-current="page"' in page(response)
    assert Invitation.objects.count() == 0
    assert mailoutbox == []


@pytest.mark.parametrize("email", ["bob@example.com", "BOB@Example.COM"])
def test_inviting_an_existing_member_is_refused(client, team, alice, email):
    client.force_login(alice)
    response = client.post(
        reverse("teams:invite", args=["example-team"]), {"email": email, "role": "member"}
    )
    assert response.status_code == 400
    assert_error_next_to_email(page(response), f"{email} is already a member of example-team.")
    assert Invitation.objects.count() == 0


def assert_error_next_to_email(html, message):
    """The message is on the page once, in the email field's column of the invite form, and
    the form keeps its row: a column per field, then the button."""
    assert html.count(html_escape(message)) == 1
    form = html.split('id="invite-form">')[1].split("</form>")[0]
    columns = re.findall(r'<div(?: class="[^"]*")?><label for="id_(\w+)"', form)
    assert columns == ["email", "role"]
    email_column = form.split('<label for="id_role"')[0]
    error_list = '<ul class="errorlist" id="id_email_error"><li>'
    assert f"{error_list}{html_escape(message)}</li></ul>" in email_column
    assert 'aria-invalid="true"' in email_column
    assert "nonfield" not in html
    assert form.rstrip().endswith('<button type="submit">Send invitation</button>')


def test_inviting_a_member_by_another_verified_address_is_refused(client, team, alice, bob):
    bob.emailaddress_set.create(email="bob@work.example", verified=True)
    client.force_login(alice)
    response = client.post(
        reverse("teams:invite", args=["example-team"]),
        {"email": "bob@work.example", "role": "member"},
    )
    assert response.status_code == 400
    assert Invitation.objects.count() == 0


def test_duplicate_pending_invitation_is_refused(client, invitation, alice):
    client.force_login(alice)
    response = client.post(
        reverse("teams:invite", args=["example-team"]),
        {"email": "Dana@Example.com", "role": "admin"},
    )
    assert response.status_code == 400
    assert_error_next_to_email(
        page(response), "Dana@Example.com already has a pending invitation. Resend it instead."
    )
    assert Invitation.objects.count() == 1


def test_too_many_invitations_is_said_once_above_the_form(client, team, alice, settings):
    settings.INVITATIONS_PER_HOUR = 0
    client.force_login(alice)
    response = client.post(
        reverse("teams:invite", args=["example-team"]),
        {"email": "dana@example.com", "role": "member"},
    )
    assert response.status_code == 400
    html = page(response)
    message = "Too many invitations in the last hour. Try again later."
    assert html.count(message) == 1
    assert html.index(message) < html.index('id="invite-form"')
    assert Invitation.objects.count() == 0


def test_revoked_invitation_does_not_block_a_new_one(client, invitation, alice):
    services.invitation_revoke(invitation=invitation)
    client.force_login(alice)
    response = client.post(
        reverse("teams:invite", args=["example-team"]),
        {"email": "dana@example.com", "role": "member"},
    )
    assert response.status_code == 302
    assert Invitation.objects.pending().count() == 1


def test_admin_resends_invitation(client, invitation, alice):
    old_hash = invitation.token_hash
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() + timedelta(hours=1)
    )
    client.force_login(alice)
    response = client.post(
        reverse("teams:resend_invitation", args=["example-team", invitation.pk]), follow=True
    )
    assert response.redirect_chain == [(reverse("teams:members", args=["example-team"]), 302)]
    invitation.refresh_from_db()
    assert invitation.token_hash != old_hash
    assert invitation.sent_at > timezone.now() - timedelta(minutes=1)
    assert invitation.expires_at > timezone.now() + timedelta(days=6)
    # The page tells the new expiry, not the old one.
    assert f"It expires on {timezone.localtime(invitation.expires_at):%Y-%m-%d %H:%M}." in page(
        response
    )


def test_admin_revokes_invitation(client, invitation, alice):
    client.force_login(alice)
    response = client.post(
        reverse("teams:revoke_invitation", args=["example-team", invitation.pk]), follow=True
    )
    assert response.redirect_chain == [(reverse("teams:members", args=["example-team"]), 302)]
    assert "The invitation to dana@example.com was revoked." in page(response)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    assert 'id="invitations"' in page(response)
    assert "dana@example.com</td>" not in page(response)


@pytest.mark.parametrize("action", ["teams:resend_invitation", "teams:revoke_invitation"])
def test_only_pending_invitations_of_this_team_can_be_resent_or_revoked(
    client, invitation, public_team, alice, action
):
    client.force_login(alice)
    # Through another team that alice also runs: not found.
    assert client.post(reverse(action, args=["open-team", invitation.pk])).status_code == 404
    services.invitation_revoke(invitation=invitation)
    revoked_at = Invitation.objects.get().revoked_at
    assert client.post(reverse(action, args=["example-team", invitation.pk])).status_code == 404
    assert Invitation.objects.get().revoked_at == revoked_at


# Roles


def test_admin_promotes_member(client, team, alice, bob, membership_of):
    client.force_login(alice)
    response = client.post(
        reverse("teams:set_role", args=["example-team", "bob"]), {"role": "admin"}, follow=True
    )
    assert response.redirect_chain == [(reverse("teams:members", args=["example-team"]), 302)]
    assert page(response).count("bob is now admin.") == 1  # on top, not in every row
    assert membership_of(team, bob).role == Role.ADMIN
    assert "admin_entity" in get_perms(bob, team)


def test_admin_demotes_another_admin(client, team, alice, bob, membership_of):
    services.membership_set_role(membership=membership_of(team, bob), role=Role.ADMIN)
    client.force_login(alice)
    client.post(reverse("teams:set_role", args=["example-team", "bob"]), {"role": "member"})
    assert membership_of(team, bob).role == Role.MEMBER
    assert "admin_entity" not in get_perms(bob, team)
    client.force_login(bob)
    assert client.get(reverse("teams:settings", args=["example-team"])).status_code == 403


def test_set_role_answers_htmx_with_the_row_only(client, team, alice, bob, membership_of):
    client.force_login(alice)
    response = client.post(
        reverse("teams:set_role", args=["example-team", "bob"]),
        {"role": "admin"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = page(response).strip()
    assert html.startswith('<tr id="member-bob">')
    assert html.endswith("</tr>")
    assert "<html" not in html
    assert '<option value="admin" selected>' in html
    assert "bob is now admin." in html
    assert membership_of(team, bob).role == Role.ADMIN


def test_cannot_demote_the_last_admin(client, team, alice, membership_of):
    client.force_login(alice)
    before = snapshot()
    response = client.post(
        reverse("teams:set_role", args=["example-team", "alice"]), {"role": "member"}, follow=True
    )
    assert "alice is the last admin of example-team. Make someone else an admin first." in page(
        response
    )
    assert membership_of(team, alice).role == Role.ADMIN
    assert snapshot() == before


def test_cannot_demote_the_last_admin_with_htmx(client, team, alice, membership_of):
    client.force_login(alice)
    response = client.post(
        reverse("teams:set_role", args=["example-team", "alice"]),
        {"role": "member"},
        HTTP_HX_REQUEST="true",
    )
    html = page(response)
    assert '<option value="admin" selected>' in html  # the row shows the role that stayed
    assert "alice is the last admin of example-team" in html
    assert membership_of(team, alice).role == Role.ADMIN


def test_unknown_role_is_refused(client, team, alice, bob, membership_of):
    client.force_login(alice)
    response = client.post(
        reverse("teams:set_role", args=["example-team", "bob"]), {"role": "service"}, follow=True
    )
    assert "Choose admin or member." in page(response)
    assert membership_of(team, bob).role == Role.MEMBER


def test_service_accounts_and_strangers_have_no_role_to_set(client, team, sam, charlie, alice):
    client.force_login(alice)
    before = snapshot()
    for username in [sam.username, "charlie", "nobody"]:
        url = reverse("teams:set_role", args=["example-team", username])
        assert client.post(url, {"role": "admin"}).status_code == 404
    assert snapshot() == before


# Removing members


def test_remove_member_asks_first(client, team, alice, bob):
    client.force_login(alice)
    before = snapshot()
    response = client.get(reverse("teams:remove_member", args=["example-team", "bob"]))
    assert response.status_code == 200
    assert "Remove bob from example-team?" in page(response)
    assert '<form method="post"' in page(response)
    assert snapshot() == before


def test_admin_removes_member(client, team, alice, bob):
    assert selectors.default_entity_of(bob) == team  # joining made the team bob's default
    client.force_login(alice)
    response = client.post(
        reverse("teams:remove_member", args=["example-team", "bob"]), follow=True
    )
    assert "bob was removed from example-team. Their runs stay." in page(response)
    assert not Membership.objects.filter(entity=team, user=bob).exists()
    assert get_perms(bob, team) == []
    # The removed member's default falls back to their personal entity.
    assert selectors.default_entity_of(bob) == bob.personal_entity
    client.force_login(bob)
    assert client.get(reverse("teams:members", args=["example-team"])).status_code == 404


def test_removing_a_member_keeps_another_default(client, team, public_team, alice, bob):
    services.default_entity_set(user=bob, entity=bob.personal_entity)
    add_member(public_team, bob)  # joining moves the default to open-team
    client.force_login(alice)
    client.post(reverse("teams:remove_member", args=["example-team", "bob"]))
    assert selectors.default_entity_of(bob) == public_team
    assert Membership.objects.filter(user=bob, is_default=True).count() == 1


def test_cannot_remove_the_last_admin(client, team, alice):
    client.force_login(alice)
    before = snapshot()
    response = client.post(
        reverse("teams:remove_member", args=["example-team", "alice"]), follow=True
    )
    assert "alice is the last admin of example-team." in page(response)
    assert snapshot() == before


def test_admin_removes_another_admin(client, team, alice, bob, membership_of):
    services.membership_set_role(membership=membership_of(team, bob), role=Role.ADMIN)
    client.force_login(bob)
    client.post(reverse("teams:remove_member", args=["example-team", "alice"]))
    assert list(
        team.memberships.exclude(role=Role.SERVICE).values_list("user__username", "role")
    ) == [("bob", "admin")]


def test_service_account_is_not_removed_as_a_member(client, team, sam, alice):
    client.force_login(alice)
    url = reverse("teams:remove_member", args=["example-team", sam.username])
    assert client.post(url).status_code == 404
    assert User.objects.filter(pk=sam.pk).exists()


# Service accounts


def test_admin_sees_service_accounts_and_their_keys(client, world, alice):
    client.force_login(alice)
    response = client.get(reverse("teams:service_accounts", args=["example-team"]))
    html = page(response)
    assert 'id="sa-sam"' in html
    assert f"<code>{world['key'].prefix}…</code>" in html
    assert world["key"].prefix.startswith("ts-")


def test_admin_creates_service_account(client, team, alice):
    client.force_login(alice)
    response = client.post(
        reverse("teams:create_service_account", args=["example-team"]), {"name": "ci"}
    )
    assert response.status_code == 200
    bot = User.objects.get(username="ci@example-team")
    assert bot.is_service
    assert not bot.has_usable_password()
    assert Membership.objects.get(user=bot).role == Role.SERVICE
    raw_key = re.search(r'<code id="secret">([^<]+)</code>', page(response)).group(1)
    assert f"export WANDB_API_KEY={raw_key}" in page(response)
    assert ApiKey.objects.get_user_for_key(raw_key) == bot


@pytest.mark.parametrize(
    "name, error",
    [
        ("sam", "example-team already has a service account named “sam”."),
        ("-ci", "Use 1 to 39 lowercase letters"),
        ("c i", "Use 1 to 39 lowercase letters"),
        ("", "This field is required."),
    ],
)
def test_invalid_service_account_name_is_a_form_error(client, team, sam, alice, name, error):
    client.force_login(alice)
    before = snapshot()
    response = client.post(
        reverse("teams:create_service_account", args=["example-team"]), {"name": name}
    )
    assert response.status_code == 400
    assert error in " ".join(response.context["form"].errors["name"])
    assert snapshot() == before


def test_admin_creates_another_key(client, team, sam, sam_key, alice):
    client.force_login(alice)
    response = client.post(
        reverse("teams:create_service_account_key", args=["example-team", "sam"]),
        {"label": "nightly"},
    )
    assert response.status_code == 200
    assert sorted(sam.api_keys.values_list("label", flat=True)) == [
        "nightly",
        "sam (created with the account)",
    ]
    raw_key = re.search(r'<code id="secret">([^<]+)</code>', page(response)).group(1)
    assert ApiKey.objects.get_user_for_key(raw_key) == sam


def test_key_without_label_is_refused(client, team, sam, alice):
    client.force_login(alice)
    response = client.post(
        reverse("teams:create_service_account_key", args=["example-team", "sam"]),
        {"label": ""},
        follow=True,
    )
    assert "Give the key a label of at most 100 characters." in page(response)
    assert sam.api_keys.count() == 1


def test_admin_revokes_key(client, team, sam_and_key, sam_key, alice):
    sam, raw_key = sam_and_key
    client.force_login(alice)
    response = client.post(
        reverse("teams:revoke_service_account_key", args=["example-team", "sam", sam_key.pk]),
        follow=True,
    )
    assert f"Key {sam_key.prefix}… of sam was revoked." in page(response)
    assert not sam.api_keys.exists()
    assert ApiKey.objects.get_user_for_key(raw_key) is None


def test_key_of_another_account_cannot_be_revoked_through_the_team(client, team, sam, alice):
    alice_key, _ = ApiKey.create_for(user=alice, label="laptop")
    client.force_login(alice)
    url = reverse("teams:revoke_service_account_key", args=["example-team", "sam", alice_key.pk])
    assert client.post(url).status_code == 404
    assert ApiKey.objects.filter(pk=alice_key.pk).exists()


def test_admin_deletes_service_account(client, team, sam_and_key, alice):
    sam, raw_key = sam_and_key
    client.force_login(alice)
    response = client.post(
        reverse("teams:delete_service_account", args=["example-team", "sam"]), follow=True
    )
    assert "Service account sam and its keys were deleted." in page(response)
    assert not User.objects.filter(pk=sam.pk).exists()
    assert not ApiKey.objects.filter(user_id=sam.pk).exists()
    assert ApiKey.objects.get_user_for_key(raw_key) is None
    assert list(team.memberships.values_list("user__username", flat=True)) == ["alice", "bob"]


def test_people_are_not_deleted_as_service_accounts(client, team, alice, bob):
    client.force_login(alice)
    # A person's username holds no "@", so no service-account URL reaches them.
    assert (
        client.post(
            reverse("teams:delete_service_account", args=["example-team", "bob"])
        ).status_code
        == 404
    )
    assert User.objects.filter(pk=bob.pk).exists()


# Creating and leaving teams


def test_user_creates_team(client, charlie):
    client.force_login(charlie)
    assert client.get(reverse("teams:create")).status_code == 200
    response = client.post(reverse("teams:create"), {"name": "Vision-Lab"}, follow=True)
    assert response.redirect_chain == [(reverse("teams:members", args=["vision-lab"]), 302)]
    assert "Team vision-lab created." in page(response)
    team = Entity.objects.get(name="vision-lab")
    assert team.is_team
    assert not team.is_private
    assert Membership.objects.get(entity=team).role == Role.ADMIN
    assert set(get_perms(charlie, team)) == {"view_entity", "write_entity", "admin_entity"}
    assert selectors.default_entity_of(charlie) == team


@pytest.mark.parametrize(
    "name, error",
    [
        ("admin", "“admin” is reserved."),
        ("Settings", "“settings” is reserved."),
        ("example-team", "The name “example-team” is taken."),
        ("Example-Team", "The name “example-team” is taken."),
        ("bob", "The name “bob” is taken."),  # a username: names are one namespace
        ("BOB", "The name “bob” is taken."),
        ("-team", "Use 1 to 39 lowercase letters"),
        ("team-", "Use 1 to 39 lowercase letters"),
        ("my team", "Use 1 to 39 lowercase letters"),
        ("équipe", "Use 1 to 39 lowercase letters"),
        ("x" * 40, "Ensure this value has at most 39 characters"),
        ("", "This field is required."),
    ],
)
def test_bad_team_name_is_a_form_error(client, team, bob, charlie, name, error):
    client.force_login(charlie)
    before = snapshot()
    response = client.post(reverse("teams:create"), {"name": name})
    assert response.status_code == 400
    assert error in " ".join(response.context["form"].errors["name"])
    assert snapshot() == before


def test_member_leaves_team(client, team, bob):
    client.force_login(bob)
    url = reverse("teams:leave", args=["example-team"])
    response = client.get(url)
    assert response.status_code == 200
    assert "Leave example-team?" in page(response)
    assert Membership.objects.filter(entity=team, user=bob).exists()

    response = client.post(url, follow=True)
    assert response.redirect_chain == [(reverse("teams:user_teams"), 302)]
    assert "You left example-team." in page(response)
    assert not Membership.objects.filter(entity=team, user=bob).exists()
    assert get_perms(bob, team) == []
    assert selectors.default_entity_of(bob) == bob.personal_entity


def test_last_admin_cannot_leave(client, team, alice):
    client.force_login(alice)
    before = snapshot()
    response = client.post(reverse("teams:leave", args=["example-team"]), follow=True)
    assert "alice is the last admin of example-team." in page(response)
    assert snapshot() == before


# Teams page and default entity


def test_user_teams_page_lists_teams_and_default(client, team, public_team, alice, sam):
    client.force_login(alice)
    response = client.get(reverse("teams:user_teams"))
    assert response.status_code == 200
    rows = [(m.entity.name, m.role, m.member_count) for m in response.context["memberships"]]
    assert rows == [("example-team", "admin", 2), ("open-team", "admin", 1)]  # sam not counted
    assert response.context["default_entity"] == public_team  # the last team alice joined
    html = page(response)
    assert '<strong id="default-entity">open-team</strong>' in html
    assert reverse("teams:leave", args=["example-team"]) in html
    choices = [name for name, _label in response.context["default_form"].fields["entity"].choices]
    assert [str(c) for c in choices] == ["example-team", "open-team", "alice"]


def test_user_sets_default_entity(client, team, public_team, alice):
    client.force_login(alice)
    response = client.post(
        reverse("teams:set_default_entity"), {"entity": "example-team"}, follow=True
    )
    assert "New projects now go to example-team." in page(response)
    assert selectors.default_entity_of(alice) == team
    assert Membership.objects.filter(user=alice, is_default=True).count() == 1


@pytest.mark.parametrize("entity", ["alice", "open-team", "nope", ""])
def test_default_entity_must_be_writable(client, team, public_team, bob, entity):
    client.force_login(bob)
    response = client.post(reverse("teams:set_default_entity"), {"entity": entity}, follow=True)
    assert "Choose an entity you can write to." in page(response)
    assert selectors.default_entity_of(bob) == team


def test_home_lists_teams(client, team, public_team, alice, bob):
    client.force_login(bob)
    response = client.get(reverse("home"))
    html = page(response)
    assert "Welcome, bob" in html
    assert "<strong>example-team</strong>" in html
    assert "open-team" not in html
    assert "Member · 2 members" in html


def test_home_for_anonymous_visitor_invites_to_sign_up(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert reverse("account_signup") in page(response)


def test_service_account_cannot_sign_in(client, sam):
    sam.set_password(PASSWORD)
    sam.save()
    assert not client.login(username=sam.username, password=PASSWORD)
    person = UserFactory(username="dana")
    assert client.login(username=person.username, password=PASSWORD)
