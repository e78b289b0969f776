"""Invitations end to end: the email, its link, and everyone who might open it."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from teams import selectors
from teams.models import Invitation, Membership, Role
from tests.factories import PASSWORD

User = get_user_model()

LINK = re.compile(r"http://testserver/invitations/[A-Za-z0-9_-]+/")


@pytest.fixture
def invite(client, team, alice, django_capture_on_commit_callbacks):
    """alice invites an address through the members page; returns the path of the emailed link."""

    def invite(email, role="member"):
        client.force_login(alice)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("teams:invite", args=[team.name]), {"email": email, "role": role}
            )
        assert response.url == reverse("teams:members", args=[team.name])
        client.logout()
        return urlsplit(link_in(mail.outbox[-1])).path

    return invite


def link_in(message):
    """The invitation link of an email, checked to be the same in its text and HTML parts."""
    [link] = set(LINK.findall(message.body))
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    return link


def page(response):
    return response.content.decode()


# The email


def test_invitation_email_carries_the_link(client, team, alice, invite):
    path = invite("dana@example.com", role="admin")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dana@example.com"]
    assert message.subject == "alice invited you to join example-team on Teamsite"
    assert "alice invited you to join the team example-team on Teamsite as admin." in message.body
    html = message.alternatives[0][0]
    assert "<strong>example-team</strong>" in html
    assert f"http://testserver{path}" in message.body
    assert f'<a href="http://testserver{path}">http://testserver{path}</a>' in html


def test_invitation_email_waits_for_the_commit(client, team, alice):
    client.force_login(alice)
    client.post(
        reverse("teams:invite", args=[team.name]), {"email": "dana@example.com", "role": "member"}
    )
    assert Invitation.objects.count() == 1
    assert mail.outbox == []  # the transaction was never committed, so nothing went out


def test_only_the_hash_of_the_token_is_stored(client, invite):
    path = invite("dana@example.com")
    token = path.split("/")[-2]
    assert len(token) >= 43
    assert not Invitation.objects.filter(token_hash__contains=token).exists()


# (a) Someone who has an account


def test_existing_user_signs_in_and_accepts(client, team, charlie, invite):
    path = invite("charlie@example.com", role="admin")

    response = client.get(path)
    sign_in_url = f"{reverse('account_login')}?next={path}"
    assert f'href="{sign_in_url}"' in page(response)
    response = client.post(
        sign_in_url, {"login": "charlie@example.com", "password": PASSWORD, "next": path}
    )
    assert response.status_code == 302
    assert response.url == path

    response = client.get(path)
    assert "Join example-team</button>" in page(response)
    response = client.post(path, follow=True)
    assert response.redirect_chain == [(reverse("teams:members", args=["example-team"]), 302)]
    assert "Welcome to example-team. It is now your default entity." in page(response)

    membership = Membership.objects.get(entity=team, user=charlie)
    assert membership.role == Role.ADMIN
    assert selectors.default_entity_of(charlie) == team
    assert Membership.objects.filter(user=charlie, is_default=True).count() == 1
    invitation = Invitation.objects.get()
    assert invitation.status == Invitation.Status.ACCEPTED
    assert invitation.accepted_by == charlie

    response = client.get(path)
    assert "This invitation has already been used." in page(response)
    assert "<form" not in page(response).split("<main")[1]


def test_invited_address_matches_whatever_its_case(client, team, charlie, invite):
    path = invite("Charlie@Example.COM")
    client.force_login(charlie)
    assert client.post(path).status_code == 302
    assert Membership.objects.get(entity=team, user=charlie).role == Role.MEMBER


def test_opening_the_link_never_accepts(client, team, charlie, invite):
    # Mail scanners and link previews open links; only the button joins.
    path = invite("charlie@example.com")
    client.force_login(charlie)
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200
        assert "Join example-team</button>" in page(response)
    assert not Membership.objects.filter(entity=team, user=charlie).exists()
    assert Invitation.objects.get().is_pending


# (b) Someone without an account


def test_new_person_signs_up_from_the_link_and_joins(client, team, invite):
    path = invite("dana@example.com")

    response = client.get(path)
    assert response.status_code == 200
    html = page(response)
    assert "Create an account with dana@example.com, or sign in, to accept." in html
    signup_url = re.search(r'<a class="button" href="([^"]+)">Create an account</a>', html).group(1)
    assert signup_url == f"/accounts/signup/?next={path}"

    assert client.get(signup_url).status_code == 200
    response = client.post(
        signup_url,
        {
            "email": "dana@example.com",
            "username": "dana",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    # No "check your email": the link proved the address. Signed in, back at the invitation.
    assert response.status_code == 302
    assert response.url == path
    dana = User.objects.get(username="dana")
    assert EmailAddress.objects.get(user=dana).verified
    assert len(mail.outbox) == 1  # only the invitation
    assert dana.personal_entity.name == "dana"

    response = client.get(path)
    assert "Join example-team</button>" in page(response)
    response = client.post(path)
    assert response.url == reverse("teams:members", args=["example-team"])
    assert Membership.objects.get(entity=team, user=dana).role == Role.MEMBER
    assert selectors.default_entity_of(dana) == team
    assert Invitation.objects.get().accepted_by == dana


def test_signing_up_without_the_link_still_needs_verification(
    client, team, invite, django_capture_on_commit_callbacks
):
    invite("dana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {
                "email": "dana@example.com",
                "username": "dana",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert not EmailAddress.objects.get(user__username="dana").verified
    assert len(mail.outbox) == 2  # the invitation and the verification email


def test_dead_link_does_not_verify_an_address(client, team, invite):
    path = invite("dana@example.com")
    Invitation.objects.update(revoked_at=timezone.now())
    client.get(path)
    assert "account_verified_email" not in client.session


# (c) Links that do not work, and the wrong person


@pytest.mark.parametrize(
    "spoil, refusal",
    [
        (
            {"expires_at": timezone.now() - timedelta(seconds=1)},
            "This invitation has expired. Ask the team&#x27;s admins for a new one.",
        ),
        ({"revoked_at": timezone.now()}, "This invitation was revoked by the team&#x27;s admins."),
        ({"accepted_at": timezone.now()}, "This invitation has already been used."),
    ],
    ids=["expired", "revoked", "used"],
)
def test_dead_invitation_is_refused(client, team, charlie, invite, spoil, refusal):
    path = invite("charlie@example.com")
    Invitation.objects.update(**spoil)

    response = client.get(path)  # anonymous: no sign-up offer either
    assert refusal in page(response)
    assert "Create an account" not in page(response).split("<main")[1]

    client.force_login(charlie)
    response = client.get(path)
    assert response.status_code == 200
    assert refusal in page(response)
    assert "</button>" not in page(response).split("<main")[1]
    response = client.post(path)
    assert response.status_code == 400
    assert refusal in page(response)
    assert not Membership.objects.filter(entity=team, user=charlie).exists()


def test_unknown_token_shows_a_404_page(client, charlie, team):
    response = client.get(reverse("invitation", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "This invitation link does not work" in page(response)
    client.force_login(charlie)
    assert client.post(reverse("invitation", args=["not-a-real-token"])).status_code == 404
    assert not Membership.objects.filter(entity=team, user=charlie).exists()


def test_someone_else_cannot_accept(client, team, bob, charlie, invite):
    path = invite("dana@example.com")
    client.force_login(charlie)
    response = client.get(path)
    refusal = (
        "This invitation was sent to dana@example.com, which is not a verified address of "
        "your account (charlie)."
    )
    assert refusal in page(response)
    assert "</button>" not in page(response).split("<main")[1]
    response = client.post(path)
    assert response.status_code == 400
    assert refusal in page(response)
    assert not Membership.objects.filter(entity=team, user=charlie).exists()
    assert Invitation.objects.get().is_pending


def test_unverified_address_is_not_enough(client, team, charlie, invite):
    EmailAddress.objects.create(user=charlie, email="charlie@work.example", verified=False)
    path = invite("charlie@work.example")
    client.force_login(charlie)
    assert client.post(path).status_code == 400
    assert not Membership.objects.filter(entity=team, user=charlie).exists()


def test_second_verified_address_is_enough(client, team, charlie, invite):
    EmailAddress.objects.create(user=charlie, email="charlie@work.example", verified=True)
    path = invite("charlie@work.example")
    client.force_login(charlie)
    assert client.post(path).status_code == 302
    assert Membership.objects.filter(entity=team, user=charlie).exists()


def test_member_who_joined_meanwhile_is_told_so(client, team, public_team, charlie, invite):
    path = invite("charlie@example.com")
    Membership.objects.create(entity=team, user=charlie, role=Role.MEMBER)
    client.force_login(charlie)
    response = client.post(path)
    assert response.status_code == 400
    assert "You are already a member of example-team." in page(response)
    assert Invitation.objects.get().is_pending


# Resending and revoking


def test_resend_rotates_the_link(
    client, team, alice, charlie, invite, django_capture_on_commit_callbacks
):
    old_path = invite("charlie@example.com")
    invitation = Invitation.objects.get()
    Invitation.objects.update(sent_at=timezone.now() - timedelta(minutes=2))

    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("teams:resend_invitation", args=["example-team", invitation.pk]), follow=True
        )
    assert response.redirect_chain == [(reverse("teams:members", args=["example-team"]), 302)]
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["charlie@example.com"]
    new_path = urlsplit(link_in(mail.outbox[1])).path
    assert new_path != old_path
    assert f"http://testserver{new_path}" in page(response)  # shown once to alice too

    client.force_login(charlie)
    response = client.get(old_path)
    assert response.status_code == 404
    assert "This invitation link does not work" in page(response)
    assert client.post(old_path).status_code == 404
    assert client.post(new_path).status_code == 302
    assert Membership.objects.filter(entity=team, user=charlie).exists()


def test_resend_is_refused_within_a_minute(
    client, team, alice, charlie, invite, django_capture_on_commit_callbacks
):
    path = invite("charlie@example.com")
    invitation = Invitation.objects.get()
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("teams:resend_invitation", args=["example-team", invitation.pk]), follow=True
        )
    assert response.redirect_chain == [(reverse("teams:members", args=["example-team"]), 302)]
    assert "This invitation was just sent. Wait a minute before sending it again." in page(response)
    assert len(mail.outbox) == 1
    assert Invitation.objects.get().token_hash == invitation.token_hash
    client.force_login(charlie)
    assert "Join example-team</button>" in page(client.get(path))


def test_revoked_link_stops_working(client, team, alice, charlie, invite):
    path = invite("charlie@example.com")
    invitation = Invitation.objects.get()
    client.force_login(alice)
    client.post(reverse("teams:revoke_invitation", args=["example-team", invitation.pk]))
    assert Invitation.objects.get().status == Invitation.Status.REVOKED

    client.force_login(charlie)
    response = client.post(path)
    assert response.status_code == 400
    assert "This invitation was revoked" in page(response)
    assert not Membership.objects.filter(entity=team, user=charlie).exists()
