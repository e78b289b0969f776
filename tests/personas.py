"""The cast of every test: alice (admin), bob (member), sam (service account of alice's team),
charlie (outsider), in a private team; plus a public team alice runs alone. Some tests add
erin (a second member), vera (a viewer) and `secret`, a restricted project naming erin."""

import pytest

from teams import services
from teams.models import Membership, Role

from .factories import ProjectFactory, TeamFactory, UserFactory, add_member

SECRET_PROJECT = "secret-vision-q4"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def charlie(db):
    return UserFactory(username="charlie")


@pytest.fixture
def team(alice, bob):
    """A private team: alice admin, bob member."""
    team = TeamFactory(name="example-team", creator=alice, is_private=True)
    add_member(team, bob, Role.MEMBER)
    return team


@pytest.fixture
def public_team(alice):
    return TeamFactory(name="open-team", creator=alice)


@pytest.fixture
def sam_and_key(team):
    """The service account of the team and its raw API key."""
    membership, raw_key = services.service_account_create(entity=team, name="sam")
    return membership.user, raw_key


@pytest.fixture
def sam(sam_and_key):
    return sam_and_key[0]


@pytest.fixture
def membership_of():
    def get(team, user):
        return Membership.objects.get(entity=team, user=user)

    return get


@pytest.fixture
def vera(team):
    """A viewer of the private team: sees what bob sees, writes nothing of the team's."""
    vera = UserFactory(username="vera")
    add_member(team, vera, Role.VIEWER)
    return vera


@pytest.fixture
def erin(team):
    """A second member of the team: neither bob nor an admin."""
    erin = UserFactory(username="erin")
    add_member(team, erin, Role.MEMBER)
    return erin


@pytest.fixture
def secret(team, alice, erin):
    """A restricted project of the team, made by alice: erin named, bob not."""
    from projects.services import project_access_set

    project = ProjectFactory(entity=team, creator=alice, name=SECRET_PROJECT)
    project_access_set(
        project=project,
        actor=alice,
        restricted=True,
        memberships=[Membership.objects.get(entity=team, user=erin)],
    )
    project.refresh_from_db()
    return project
