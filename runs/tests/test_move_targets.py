"""The Move dialog on the runs table offers exactly the targets the move service accepts: the
projects and entities the actor's roles let them write to. A site admin (superuser) gets no more
than their memberships give.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in open-team.
"""

import re

import pytest

from projects.models import Project
from runs.models import Run
from teams.models import Entity, Role
from teams.selectors import entities_writable_by, may_write
from tests.factories import ProjectFactory, RunFactory, UserFactory, add_member


@pytest.fixture
def operator(db):
    """A superuser who belongs to no team."""
    user = UserFactory(username="operator")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def world(alice, bob, charlie, team, public_team, operator):
    """Projects everywhere: example-team/resnet (with runs) and bert, open-team/demo (public,
    with runs), and a personal project of each person."""
    resnet = ProjectFactory(entity=team, creator=alice, name="resnet")
    ProjectFactory(entity=team, creator=bob, name="bert")
    demo = ProjectFactory(entity=public_team, creator=alice, name="demo", visibility="public")
    for user in [alice, bob, charlie, operator]:
        ProjectFactory(entity=user.personal_entity, creator=user, name="scratch")
    RunFactory(project=resnet, run_id="r1", author=bob)
    RunFactory(project=demo, run_id="d1", author=alice)
    return {"resnet": resnet, "demo": demo}


def dialog(client, path):
    """The Move dialog's (project targets, entities for a new project), teams first."""
    html = client.get(path).content.decode()
    select = re.search(r'<select name="target" id="move-target">(.*?)</select>', html, re.S)[1]
    new_in = re.search(r'<select name="new_entity">(.*?)</select>', html, re.S)[1]
    targets = re.findall(r'<option value="([^"]+)"', select)
    return [t for t in targets if t != "__new__"], re.findall(r'<option value="([^"]+)"', new_in)


def test_superuser_outside_every_team_is_offered_only_their_own_entity(client, world, operator):
    client.force_login(operator)

    targets, new_in = dialog(client, "/open-team/demo/")

    assert targets == ["operator/scratch"]
    assert new_in == ["operator"]


def test_superuser_cannot_move_to_a_project_the_dialog_does_not_offer(client, world, operator):
    client.force_login(operator)

    response = client.post("/open-team/demo/move-runs/", {"run": ["d1"], "target": "alice/scratch"})

    assert response.status_code == 302
    assert Run.objects.get(run_id="d1").project == world["demo"]


def test_superuser_in_a_team_is_offered_that_team_and_can_move_there(
    client, world, operator, alice, public_team
):
    add_member(public_team, operator, Role.ADMIN)
    client.force_login(operator)

    targets, new_in = dialog(client, "/open-team/demo/")

    assert targets == ["operator/scratch"]  # demo itself is the source
    assert new_in == ["open-team", "operator"]
    ProjectFactory(entity=public_team, creator=alice, name="paper")
    targets, _ = dialog(client, "/open-team/demo/")
    assert targets == ["open-team/paper", "operator/scratch"]
    client.post("/open-team/demo/move-runs/", {"run": ["d1"], "target": "open-team/paper"})
    assert Run.objects.get(run_id="d1").project.path == "open-team/paper"


def test_member_is_offered_their_teams_and_their_own_entity(client, world, bob):
    client.force_login(bob)

    targets, new_in = dialog(client, "/example-team/resnet/")

    assert targets == ["example-team/bert", "bob/scratch"]
    assert new_in == ["example-team", "bob"]
    client.post("/example-team/resnet/move-runs/", {"run": ["r1"], "target": "bob/scratch"})
    assert Run.objects.get(run_id="r1").project.path == "bob/scratch"


def test_the_list_and_the_service_use_one_rule(world, alice, bob, charlie, operator):
    for user in [alice, bob, charlie, operator]:
        writable = set(entities_writable_by(user))
        for entity in Entity.objects.all():
            assert may_write(user, entity) == (entity in writable)
    assert {e.name for e in entities_writable_by(operator)} == {"operator"}
    assert Project.objects.filter(entity__in=entities_writable_by(operator)).count() == 1
