"""The rules the services keep, whichever view, command or admin action calls them."""

import contextlib
import re
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from guardian.shortcuts import get_perms

from accounts.backends import HumanAuthenticationBackend
from accounts.models import ApiKey
from teams import selectors, services
from teams.models import Entity, Invitation, Membership, Role
from teams.services import TeamError
from teamsite.lib.tokens import hash_token
from tests.factories import PASSWORD, TeamFactory, UserFactory, add_member

User = get_user_model()

# wandb-protocol.md section 2: an optional prefix ending in a dash, then at least 40 letters,
# digits or underscores.
WANDB_KEY = re.compile(r"(?:[A-Za-z0-9_]*-)?[A-Za-z0-9_]{40,}")


def perms(user, entity):
    return set(get_perms(user, entity))


# The last human admin


def test_cannot_demote_the_last_admin(team, alice, membership_of):
    with pytest.raises(TeamError, match="alice is the last admin of example-team"):
        services.membership_set_role(membership=membership_of(team, alice), role=Role.MEMBER)
    assert membership_of(team, alice).role == Role.ADMIN
    assert "admin_entity" in perms(alice, team)


def test_admin_can_step_down_once_another_admin_exists(team, alice, bob, membership_of):
    services.membership_set_role(membership=membership_of(team, bob), role=Role.ADMIN)
    services.membership_set_role(membership=membership_of(team, alice), role=Role.MEMBER)
    assert membership_of(team, alice).role == Role.MEMBER
    assert list(Membership.objects.human_admins().filter(entity=team)) == [membership_of(team, bob)]


def test_inactive_or_service_admins_do_not_count(team, alice, bob, sam, membership_of):
    services.membership_set_role(membership=membership_of(team, bob), role=Role.ADMIN)
    User.objects.filter(pk=bob.pk).update(is_active=False)
    # A service account with the admin role (only the database could make one) is no admin.
    Membership.objects.filter(user=sam).update(role=Role.ADMIN)
    with pytest.raises(TeamError, match="last admin"):
        services.membership_set_role(membership=membership_of(team, alice), role=Role.MEMBER)
    with pytest.raises(TeamError, match="last admin"):
        services.membership_remove(membership=membership_of(team, alice))
    assert membership_of(team, alice).role == Role.ADMIN


def test_cannot_remove_the_last_admin(team, alice, membership_of):
    with pytest.raises(TeamError, match="last admin"):
        services.membership_remove(membership=membership_of(team, alice))
    assert membership_of(team, alice).role == Role.ADMIN


def test_last_admin_cannot_leave_but_a_member_can(team, alice, bob, membership_of):
    # Leaving is removing oneself.
    with pytest.raises(TeamError, match="last admin"):
        services.membership_remove(membership=membership_of(team, alice))
    services.membership_remove(membership=membership_of(team, bob))
    assert not Membership.objects.filter(entity=team, user=bob).exists()


def test_cannot_delete_the_last_admin(team, public_team, alice, bob):
    with pytest.raises(TeamError) as error:
        services.user_delete(user=alice)
    assert "alice is the last admin of example-team." in str(error.value)
    assert "alice is the last admin of open-team." in str(error.value)
    assert User.objects.filter(pk=alice.pk).exists()
    assert len(services.user_delete_refusals(alice)) == 2


def test_admin_is_deleted_once_another_admin_exists(team, alice, bob, membership_of):
    services.membership_set_role(membership=membership_of(team, bob), role=Role.ADMIN)
    services.user_delete(user=alice)
    assert not User.objects.filter(username="alice").exists()
    assert not Entity.objects.filter(name="alice").exists()  # the personal entity goes too
    assert list(team.memberships.values_list("user__username", "role")) == [("bob", "admin")]


def test_member_is_deleted(team, bob):
    assert services.user_delete_refusals(bob) == []
    services.user_delete(user=bob)
    assert list(team.memberships.values_list("user__username", flat=True)) == ["alice"]


def test_nobody_is_removed_from_a_personal_entity(alice, membership_of):
    with pytest.raises(TeamError, match="Nobody can be removed from a personal entity"):
        services.membership_remove(membership=membership_of(alice.personal_entity, alice))


# Permissions follow roles


def test_permissions_follow_the_role(team, alice, bob, charlie, membership_of):
    assert perms(alice, team) == {"view_entity", "write_entity", "admin_entity"}
    assert perms(bob, team) == {"view_entity", "write_entity"}
    assert perms(charlie, team) == set()

    services.membership_set_role(membership=membership_of(team, bob), role=Role.ADMIN)
    assert perms(bob, team) == {"view_entity", "write_entity", "admin_entity"}
    services.membership_set_role(membership=membership_of(team, bob), role=Role.MEMBER)
    assert perms(bob, team) == {"view_entity", "write_entity"}
    services.membership_remove(membership=membership_of(team, bob))
    assert perms(bob, team) == set()
    add_member(team, bob, Role.ADMIN)
    assert perms(bob, team) == {"view_entity", "write_entity", "admin_entity"}


def test_permissions_of_personal_entities_and_service_accounts(team, alice, bob, sam):
    assert perms(alice, alice.personal_entity) == {"view_entity", "write_entity", "admin_entity"}
    assert perms(bob, alice.personal_entity) == set()
    assert perms(sam, team) == {"view_entity", "write_entity"}
    assert perms(sam, alice.personal_entity) == set()


def test_permissions_of_one_team_stay_there(team, public_team, bob):
    assert perms(bob, public_team) == set()
    assert [e.name for e in selectors.entities_writable_by(bob)] == ["example-team", "bob"]


def test_membership_add_refuses_duplicates_bots_and_personal_entities(team, alice, bob, sam):
    with pytest.raises(TeamError, match="bob is already a member of example-team"):
        add_member(team, bob)
    with pytest.raises(TeamError, match="service account belongs to the team"):
        add_member(TeamFactory(creator=alice), sam)
    with pytest.raises(TeamError, match="Only teams have members"):
        add_member(alice.personal_entity, bob)
    with pytest.raises(TeamError, match="Unknown role"):
        add_member(team, UserFactory(), Role.SERVICE)


def test_service_accounts_keep_their_role(team, sam, membership_of):
    with pytest.raises(TeamError, match="service accounts keep their role"):
        services.membership_set_role(membership=membership_of(team, sam), role=Role.ADMIN)
    assert membership_of(team, sam).role == Role.SERVICE


# Service accounts


def test_service_account_is_a_bot_of_its_team(team, sam_and_key):
    sam, raw_key = sam_and_key
    assert sam.username == "sam@example-team"
    assert sam.first_name == "sam"
    assert sam.is_service
    assert not sam.has_usable_password()
    assert sam.email == ""
    assert not Entity.objects.filter(user=sam).exists()
    assert WANDB_KEY.fullmatch(raw_key)
    assert ApiKey.objects.get_user_for_key(raw_key) == sam


def test_service_account_cannot_sign_in_even_with_a_password(client, sam):
    sam.set_password(PASSWORD)
    sam.save()
    assert not client.login(username=sam.username, password=PASSWORD)
    assert authenticate(username=sam.username, password=PASSWORD) is None
    backend = HumanAuthenticationBackend()
    assert not backend.user_can_authenticate(sam)
    assert backend.get_user(sam.pk) is None  # an existing session of the bot is worthless


def test_people_sign_in(client, alice):
    assert client.login(username="alice", password=PASSWORD)
    assert HumanAuthenticationBackend().user_can_authenticate(alice)


def test_service_account_cannot_create_teams_or_accept_invitations(team, alice, sam):
    with pytest.raises(TeamError, match="Service accounts cannot create teams"):
        services.team_create(name="bots", creator=sam)
    invitation, _ = services.invitation_create(
        entity=team, inviter=alice, email="x@example.com", role=Role.MEMBER
    )
    assert services.invitation_refusal(invitation, sam) == (
        "Service accounts cannot accept invitations."
    )


@pytest.mark.parametrize(
    "name, error",
    [
        ("sam", "already has a service account named “sam”"),
        ("Sam", "Use 1 to 39 lowercase letters"),
        ("a@b", "Use 1 to 39 lowercase letters"),
        ("", "Use 1 to 39 lowercase letters"),
    ],
)
def test_service_account_names(team, sam, name, error):
    with pytest.raises(TeamError, match=error):
        services.service_account_create(entity=team, name=name)
    assert User.objects.filter(is_service=True).count() == 1


def test_same_bot_name_in_two_teams(team, public_team, sam):
    membership, _ = services.service_account_create(entity=public_team, name="sam")
    assert membership.user.username == "sam@open-team"
    assert membership.user != sam


def test_only_teams_have_service_accounts(alice):
    with pytest.raises(TeamError, match="Service accounts belong to teams"):
        services.service_account_create(entity=alice.personal_entity, name="ci")


def test_service_account_delete_takes_its_keys(team, bob, sam_and_key, membership_of):
    sam, raw_key = sam_and_key
    services.service_account_key_create(membership=membership_of(team, sam), label="second")
    assert ApiKey.objects.filter(user=sam).count() == 2
    services.service_account_delete(membership=membership_of(team, sam))
    assert not User.objects.filter(pk=sam.pk).exists()
    assert not ApiKey.objects.filter(user_id=sam.pk).exists()
    assert ApiKey.objects.get_user_for_key(raw_key) is None
    with pytest.raises(TeamError, match="Only service accounts"):
        services.service_account_delete(membership=membership_of(team, bob))
    assert User.objects.filter(pk=bob.pk).exists()


# Default entity


def test_default_entity_moves_to_writable_entities_only(team, public_team, alice, bob, sam):
    services.default_entity_set(user=bob, entity=bob.personal_entity)
    assert selectors.default_entity_of(bob) == bob.personal_entity
    services.default_entity_set(user=bob, entity=team)
    assert selectors.default_entity_of(bob) == team

    for entity in [public_team, alice.personal_entity]:
        with pytest.raises(TeamError, match="only choose an entity you can write to"):
            services.default_entity_set(user=bob, entity=entity)
    assert selectors.default_entity_of(bob) == team
    assert Membership.objects.filter(user=bob, is_default=True).count() == 1


def test_each_person_has_exactly_one_default(team, public_team, alice, bob, membership_of):
    # Created alice, then example-team, then open-team: the last one joined is the default.
    assert selectors.default_entity_of(alice) == public_team
    assert Membership.objects.filter(user=alice, is_default=True).count() == 1
    services.membership_remove(membership=membership_of(team, bob))
    assert selectors.default_entity_of(bob) == bob.personal_entity


# Names


@pytest.mark.parametrize(
    "name, error",
    [
        ("api", "reserved"),
        ("teams", "reserved"),
        # The load balancer's probes.
        ("healthz", "reserved"),
        ("readyz", "reserved"),
        ("alice", "taken"),  # a username
        ("example-team", "taken"),
        ("ALICE", "lowercase"),
    ],
)
def test_team_and_user_names_share_one_namespace(team, alice, name, error):
    with pytest.raises(TeamError, match=error):
        services.team_create(name=name, creator=alice)
    with pytest.raises(TeamError, match=error):
        services.user_create(username=name, email="new@example.com")
    assert not User.objects.filter(email="new@example.com").exists()


def test_database_refuses_names_that_differ_only_in_case(team, alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        Entity.objects.create(name="ALICE", kind=Entity.Kind.TEAM)
    with pytest.raises(IntegrityError), transaction.atomic():
        Entity.objects.create(name="Example-Team", kind=Entity.Kind.TEAM)


def test_user_create_refuses_an_email_in_use(alice):
    with pytest.raises(TeamError, match="already in use"):
        services.user_create(username="alice2", email="ALICE@example.com")


# Invitations


def test_only_admins_invite(team, alice, bob):
    with pytest.raises(TeamError, match="Only admins of example-team can invite people"):
        services.invitation_create(entity=team, inviter=bob, email="x@example.com", role="member")
    with pytest.raises(TeamError, match="role above your own"):
        services.invitation_create(
            entity=team, inviter=alice, email="x@example.com", role="service"
        )
    assert Invitation.objects.count() == 0


def test_invitation_rate_limit(team, alice, settings):
    settings.INVITATIONS_PER_HOUR = 2
    first, _ = services.invitation_create(
        entity=team, inviter=alice, email="a@example.com", role="member"
    )
    services.invitation_create(entity=team, inviter=alice, email="b@example.com", role="member")
    services.invitation_revoke(invitation=first)  # revoking does not give the quota back
    with pytest.raises(TeamError, match="Too many invitations in the last hour"):
        services.invitation_create(entity=team, inviter=alice, email="c@example.com", role="member")
    assert Invitation.objects.count() == 2

    Invitation.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=2))
    services.invitation_create(entity=team, inviter=alice, email="c@example.com", role="member")
    assert Invitation.objects.count() == 3


def test_invitation_rate_limit_is_per_team(team, public_team, alice, settings):
    settings.INVITATIONS_PER_HOUR = 1
    services.invitation_create(entity=team, inviter=alice, email="a@example.com", role="member")
    services.invitation_create(
        entity=public_team, inviter=alice, email="a@example.com", role="member"
    )
    assert Invitation.objects.count() == 2


def test_invitation_is_accepted_once(team, alice, charlie, membership_of):
    invitation, _ = services.invitation_create(
        entity=team, inviter=alice, email="charlie@example.com", role="admin"
    )
    membership = services.invitation_accept(invitation=invitation, user=charlie)
    assert membership.role == Role.ADMIN
    assert perms(charlie, team) == {"view_entity", "write_entity", "admin_entity"}
    with pytest.raises(TeamError, match="already been used"):
        services.invitation_accept(invitation=invitation, user=charlie)
    with pytest.raises(TeamError, match="already accepted"):
        services.invitation_revoke(invitation=invitation)


def test_invitation_resend_keeps_to_the_rules(team, alice, bob, membership_of):
    invitation, old_link = services.invitation_create(
        entity=team, inviter=alice, email="dana@example.com", role="member"
    )
    with pytest.raises(TeamError, match="Wait a minute"):
        services.invitation_resend(invitation=invitation, actor=alice)
    Invitation.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
    with pytest.raises(TeamError, match="Only admins"):
        services.invitation_resend(invitation=invitation, actor=bob)
    new_link = services.invitation_resend(invitation=invitation, actor=alice)
    assert new_link != old_link
    assert services.invitation_for_token(old_link.split("/")[-2]) is None
    assert services.invitation_for_token(new_link.split("/")[-2]) == invitation
    services.invitation_revoke(invitation=invitation)
    with pytest.raises(TeamError, match="already used or revoked"):
        services.invitation_resend(invitation=invitation, actor=alice)


# API keys


def test_api_key_finds_its_user_and_records_its_use(alice):
    api_key, raw_key = ApiKey.create_for(user=alice, label="laptop")
    assert api_key.last_used_at is None
    before = timezone.now()
    assert ApiKey.objects.get_user_for_key(raw_key) == alice
    api_key.refresh_from_db()
    assert before <= api_key.last_used_at <= timezone.now()


def test_revoked_unknown_or_inactive_keys_find_nobody(alice, bob):
    api_key, raw_key = ApiKey.create_for(user=alice, label="laptop")
    _, bob_key = ApiKey.create_for(user=bob, label="laptop")
    assert ApiKey.objects.get_user_for_key("ts-" + "0" * 48) is None
    assert ApiKey.objects.get_user_for_key("") is None
    assert ApiKey.objects.get_user_for_key(raw_key.upper()) is None
    api_key.delete()  # revoking a key deletes it
    assert ApiKey.objects.get_user_for_key(raw_key) is None
    User.objects.filter(pk=bob.pk).update(is_active=False)
    assert ApiKey.objects.get_user_for_key(bob_key) is None
    assert ApiKey.objects.get(user=bob).last_used_at is None


def test_api_keys_have_the_format_the_wandb_client_accepts(team, sam, alice, membership_of):
    keys = [
        ApiKey.create_for(user=alice, label="laptop")[1],
        services.service_account_key_create(membership=membership_of(team, sam), label="ci"),
        services.service_account_create(entity=team, name="nightly")[1],
    ]
    for raw_key in keys:
        assert WANDB_KEY.fullmatch(raw_key), raw_key
        assert raw_key.startswith("ts-")
        assert len(raw_key.removeprefix("ts-")) >= 40
    assert len(set(keys)) == 3
    for raw_key in keys:
        # Stored as a hash and a short prefix to recognise it by, never as it is.
        stored = ApiKey.objects.get(key_hash=hash_token(raw_key))
        assert stored.prefix == raw_key[:11]
        assert raw_key not in (stored.prefix, stored.key_hash)


@pytest.mark.parametrize(
    "key, valid",
    [
        ("ts-" + "a" * 40, True),
        ("a" * 40, True),
        ("local-" + "A_9" * 14, True),
        ("ts-" + "a" * 39, False),
        ("ts-" + "a" * 39 + "!", False),
        ("ts-a-" + "a" * 40, False),
    ],
)
def test_key_rule_matches_the_protocol(key, valid):
    # The rule the tests above check against, checked itself.
    assert bool(WANDB_KEY.fullmatch(key)) == valid


# Concurrency


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_leave_one_admin(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs PostgreSQL: row locks (SELECT ... FOR UPDATE) between two connections; "
            "CI runs it with DATABASE_URL=postgres://..."
        )
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    team = TeamFactory(name="example-team", creator=alice)
    add_member(team, bob, Role.ADMIN)
    memberships = {m.user.username: m for m in team.memberships.select_related("user")}

    # Widen the race window: each thread waits, after checking the other is still an admin,
    # until the other has checked too. Without the row lock both pass the check and both
    # demotions commit; with it the second thread waits on the lock, so the first thread's
    # wait times out and it goes on alone.
    checked = threading.Barrier(2, timeout=1)
    check = services.check_keeps_human_admin

    def check_then_wait(entity, *, losing):
        check(entity, losing=losing)
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait()

    monkeypatch.setattr(services, "check_keeps_human_admin", check_then_wait)
    start = threading.Barrier(2, timeout=5)
    outcomes = {}

    def demote(username):
        try:
            start.wait()
            services.membership_set_role(membership=memberships[username], role=Role.MEMBER)
            outcomes[username] = "demoted"
        except TeamError:
            outcomes[username] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=[name]) for name in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["demoted", "refused"]
    assert Membership.objects.human_admins().filter(entity=team).count() == 1
