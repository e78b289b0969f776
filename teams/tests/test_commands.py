"""Operator commands: each prints its result as the last line of stdout, and turns bad input
into a CommandError (exit code 1 from manage.py)."""

import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import ApiKey
from teams import services
from teams.models import Entity, Invitation, Membership, Role
from tests.factories import PASSWORD

User = get_user_model()

pytestmark = pytest.mark.django_db


def run(*args, **options):
    """Call a command; return its stdout lines and its stderr."""
    stdout, stderr = StringIO(), StringIO()
    call_command(*args, stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue().splitlines(), stderr.getvalue()


def fresh(user):
    return User.objects.get(pk=user.pk)


# create_user


def test_create_user_makes_a_verified_person_with_a_personal_entity():
    lines, _ = run("create_user", "Dana", "--email", "dana@example.com", "--password", PASSWORD)

    assert lines[-1] == "Created user dana <dana@example.com>"
    user = User.objects.get(username="dana")
    assert user.check_password(PASSWORD)
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("dana@example.com", True, True)
    membership = Membership.objects.get(user=user)
    assert membership.entity == user.personal_entity
    assert membership.entity.kind == Entity.Kind.USER
    assert (membership.role, membership.is_default) == (Role.ADMIN, True)


def test_create_user_without_a_password_leaves_it_unusable():
    run("create_user", "dana", "--email", "dana@example.com")

    assert not User.objects.get(username="dana").has_usable_password()


@pytest.mark.parametrize(
    ("username", "email", "message"),
    [
        ("ALICE", "new@example.com", "taken"),
        ("newcomer", "ALICE@example.com", "already in use"),
        ("admin", "new@example.com", "reserved"),
        ("example-team", "new@example.com", "taken"),
        ("bad name", "new@example.com", "Use 1 to 39 lowercase letters"),
        ("newcomer", "not-an-email", "valid email"),
    ],
)
def test_create_user_refuses_bad_input(team, username, email, message):
    users_before = User.objects.count()

    with pytest.raises(CommandError, match=message):
        run("create_user", username, "--email", email)

    assert User.objects.count() == users_before


def test_create_user_refuses_a_weak_password():
    with pytest.raises(CommandError, match=r"too common|too short"):
        run("create_user", "dana", "--email", "dana@example.com", "--password", "password")

    assert not User.objects.filter(username="dana").exists()


# create_team


def test_create_team_makes_the_named_user_its_admin(alice):
    lines, _ = run("create_team", "Research", "--admin", "alice")

    assert lines[-1] == "Created team research with admin alice"
    team = Entity.objects.get(name="research")
    assert team.kind == Entity.Kind.TEAM
    membership = Membership.objects.get(entity=team)
    assert (membership.user, membership.role, membership.is_default) == (alice, Role.ADMIN, True)
    assert fresh(alice).has_perm("teams.admin_entity", team)


def test_create_team_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="No user named “nobody”"):
        run("create_team", "research", "--admin", "nobody")

    assert not Entity.objects.exists()


@pytest.mark.parametrize(("name", "message"), [("Bob", "taken"), ("api", "reserved")])
def test_create_team_refuses_a_taken_or_reserved_name(alice, bob, name, message):
    with pytest.raises(CommandError, match=message):
        run("create_team", name, "--admin", "alice")

    assert not Entity.objects.filter(kind=Entity.Kind.TEAM).exists()


def test_create_team_refuses_a_service_account_as_admin(sam):
    with pytest.raises(CommandError, match="Service accounts cannot create teams"):
        run("create_team", "bots", "--admin", sam.username)


# add_member


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ADMIN])
def test_add_member_adds_with_the_role_and_makes_the_team_the_default(team, charlie, role):
    lines, _ = run("add_member", "example-team", "charlie", "--role", role)

    assert lines[-1] == f"Added charlie to example-team as {role}"
    membership = Membership.objects.get(entity=team, user=charlie)
    assert membership.role == role
    assert Membership.objects.get(user=charlie, is_default=True) == membership
    assert fresh(charlie).has_perm("teams.admin_entity", team) == (role == Role.ADMIN)


def test_add_member_defaults_to_member(team, charlie):
    run("add_member", "example-team", "charlie")

    assert Membership.objects.get(entity=team, user=charlie).role == Role.MEMBER


def test_add_member_refuses_someone_already_a_member(team, bob):
    with pytest.raises(CommandError, match="bob is already a member of example-team"):
        run("add_member", "example-team", "bob", "--role", "admin")

    assert Membership.objects.get(entity=team, user=bob).role == Role.MEMBER


def test_add_member_refuses_a_personal_entity_or_unknown_team(alice, charlie):
    for name in ["alice", "no-such-team"]:
        with pytest.raises(CommandError, match=f"No team named “{name}”"):
            run("add_member", name, "charlie")

    assert Membership.objects.filter(user=charlie).count() == 1


def test_add_member_refuses_a_service_account(team, sam, public_team):
    with pytest.raises(CommandError, match="belongs to the team that created it"):
        run("add_member", "open-team", sam.username)


def test_add_member_refuses_an_unknown_role(team, charlie):
    with pytest.raises(CommandError, match="invalid choice"):
        run("add_member", "example-team", "charlie", "--role", "service")


# create_api_key


def test_create_api_key_prints_a_key_that_signs_in_the_user(alice):
    lines, err = run("create_api_key", "alice", "--label", "cluster")

    raw_key = lines[-1]
    assert ApiKey.objects.get_user_for_key(raw_key) == alice
    assert ApiKey.objects.get(user=alice).label == "cluster"
    assert "API key for alice (cluster)" in err
    assert raw_key not in err


def test_create_api_key_refuses_an_unknown_or_inactive_user(alice):
    alice.is_active = False
    alice.save()

    for username in ["alice", "nobody"]:
        with pytest.raises(CommandError, match=f"No active user named “{username}”"):
            run("create_api_key", username)

    assert not ApiKey.objects.exists()


def test_create_api_key_refuses_a_label_over_100_characters(alice):
    with pytest.raises(CommandError, match="longer than 100"):
        run("create_api_key", "alice", "--label", "x" * 101)

    assert not ApiKey.objects.exists()


# create_service_account


def test_create_service_account_prints_the_key_of_a_new_service_user(team):
    lines, err = run("create_service_account", "example-team", "CI")

    raw_key = lines[-1]
    user = ApiKey.objects.get_user_for_key(raw_key)
    assert user.username == "ci@example-team"
    assert user.is_service
    assert not user.has_usable_password()
    assert user.email == ""
    membership = Membership.objects.get(user=user)
    assert (membership.entity, membership.role) == (team, Role.SERVICE)
    assert fresh(user).has_perm("teams.write_entity", team)
    assert not fresh(user).has_perm("teams.admin_entity", team)
    assert "Created service account CI of example-team" in err


def test_create_service_account_refuses_a_duplicate_or_an_unknown_team(team):
    run("create_service_account", "example-team", "ci")

    with pytest.raises(CommandError, match="already has a service account named “ci”"):
        run("create_service_account", "example-team", "ci")
    with pytest.raises(CommandError, match="No team named “nowhere”"):
        run("create_service_account", "nowhere", "ci")

    assert User.objects.filter(is_service=True).count() == 1


def test_create_service_account_refuses_a_bad_name(team):
    with pytest.raises(CommandError, match="Use 1 to 39"):
        run("create_service_account", "example-team", "ci bot")

    assert not User.objects.filter(is_service=True).exists()


# invite


def test_invite_emails_and_prints_a_working_link(team, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lines, _ = run("invite", "example-team", "carol@example.com", "--inviter", "alice")

    link = lines[-1]
    assert re.fullmatch(r"http://testserver/invitations/[\w-]+/", link)
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.inviter) == (
        "carol@example.com",
        Role.MEMBER,
        alice,
    )
    assert invitation.is_pending
    assert services.invitation_for_token(link.rsplit("/", 2)[-2]) == invitation
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carol@example.com"]
    assert "example-team" in message.subject
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert link in html


def test_invite_with_the_admin_role(team):
    run("invite", "example-team", "carol@example.com", "--inviter", "alice", "--role", "admin")

    assert Invitation.objects.get().role == Role.ADMIN


@pytest.mark.parametrize("inviter", ["bob", "charlie"])
def test_invite_refuses_an_inviter_who_is_not_an_admin(
    team, charlie, inviter, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(CommandError, match="Only admins of example-team can invite"),
    ):
        run("invite", "example-team", "carol@example.com", "--inviter", inviter)

    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["not-an-email", "carol@", "@example.com", ""])
def test_invite_refuses_a_bad_email(team, email, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(CommandError, match="is not an email address"),
    ):
        run("invite", "example-team", email, "--inviter", "alice")

    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_invite_refuses_a_current_member(team):
    with pytest.raises(CommandError, match="already a member"):
        run("invite", "example-team", "bob@example.com", "--inviter", "alice")


# load_demo_data


def snapshot():
    return {
        "users": sorted(User.objects.values_list("username", flat=True)),
        "entities": sorted(Entity.objects.values_list("name", "kind")),
        "memberships": sorted(
            Membership.objects.values_list("entity__name", "user__username", "role")
        ),
        "invitations": list(Invitation.objects.values_list("email", "token_hash")),
        "emails": sorted(EmailAddress.objects.values_list("email", "verified")),
    }


def test_load_demo_data_creates_alice_bob_the_team_and_a_pending_invitation(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        lines, _ = run("load_demo_data")

    alice, bob = User.objects.get(username="alice"), User.objects.get(username="bob")
    assert alice.is_superuser and alice.is_staff
    assert not bob.is_staff
    assert alice.check_password("teamsite-demo")
    assert bob.check_password("teamsite-demo")
    team = Entity.objects.get(name="example-team", kind=Entity.Kind.TEAM)
    assert Membership.objects.get(entity=team, user=alice).role == Role.ADMIN
    assert Membership.objects.get(entity=team, user=bob).role == Role.MEMBER
    invitation = Invitation.objects.get()
    assert (invitation.entity, invitation.email, invitation.is_pending) == (
        team,
        "carol@example.com",
        True,
    )
    assert [message.to for message in mail.outbox] == [["carol@example.com"]]
    assert any("http://testserver/invitations/" in line for line in lines)
    assert "teamsite-demo" in lines[-1]


def test_load_demo_data_a_second_time_changes_nothing(django_capture_on_commit_callbacks):
    run("load_demo_data")
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        lines, _ = run("load_demo_data")

    assert snapshot() == before
    assert lines[-1].startswith("Demo data already loaded")
    assert mail.outbox == []


# Through manage.py


@pytest.fixture
def database_file(tmp_path):
    """Write the test database, as this test sees it, to a file for manage.py in a child
    process (the test database itself lives in this process's memory)."""
    if connection.vendor != "sqlite":
        pytest.skip("copies an SQLite test database")
    connection.ensure_connection()
    path = tmp_path / "db.sqlite3"
    target = sqlite3.connect(path)
    target.executescript("\n".join(connection.connection.iterdump()))
    target.close()
    return path


def manage(database_file, *args):
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database_file}"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_manage_py_create_team_exits_0_and_prints_the_result(alice, database_file):
    result = manage(database_file, "create_team", "research", "--admin", "alice")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Created team research with admin alice"
    with closing(sqlite3.connect(database_file)) as copy:
        rows = copy.execute(
            "SELECT e.kind, m.role FROM teams_entity e JOIN teams_membership m"
            " ON m.entity_id = e.id WHERE e.name = 'research'"
        ).fetchall()
    assert rows == [("team", "admin")]


def test_manage_py_create_team_with_an_unknown_admin_exits_1_with_the_error(database_file):
    result = manage(database_file, "create_team", "research", "--admin", "nobody")

    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: No user named “nobody”."
    assert result.stdout == ""
