"""Restricted projects through the machine API: a member who is not named on one (and a
service account unless named) meets it as an outsider meets a private project: `project` is
null, `models` leaves it out, logging and file_stream are refused without confirming it."""

import json

import pytest

from projects.services import project_access_set
from runs.models import Run
from teams.models import Membership
from tests.factories import ProjectFactory, RunFactory, api_key_for
from tests.personas import SECRET_PROJECT as SECRET
from tests.wandb_client import WandbClient

from .test_graphql import basic, core_upsert, gql, ok, refused
from .test_graphql_projects import GET_PROJECT, LIST_PROJECTS


def names(client, key):
    data = ok(gql(client, key, None, {"entity": "example-team"}, query=LIST_PROJECTS))
    return [edge["node"]["name"] for edge in data["models"]["edges"]]


def project_of(client, key):
    variables = {"entity": "example-team", "name": SECRET}
    return ok(gql(client, key, None, variables, query=GET_PROJECT))["project"]


@pytest.mark.django_db
def test_graphql_shows_it_to_admins_and_named_members_only(
    client, secret, team, alice, bob, erin, sam_and_key
):
    ProjectFactory(entity=team, creator=alice, name="open")
    sam_key = sam_and_key[1]
    for key, sees in (
        (api_key_for(alice), True),
        (api_key_for(erin), True),
        (api_key_for(bob), False),
        (sam_key, False),
    ):
        assert (SECRET in names(client, key)) == sees
        assert "open" in names(client, key)
        assert (project_of(client, key) is not None) == sees


@pytest.mark.django_db
def test_a_named_service_account_sees_it(client, secret, team, alice, erin, sam_and_key):
    sam, sam_key = sam_and_key
    memberships = Membership.objects.filter(entity=team, user__in=[erin, sam])
    project_access_set(project=secret, actor=alice, restricted=True, memberships=memberships)
    assert project_of(client, sam_key)["name"] == SECRET
    response = core_upsert(client, sam_key, project=SECRET, username="erin", name="samrun1")
    ok(response)
    assert Run.objects.get(run_id="samrun1").project == secret


@pytest.mark.django_db
def test_a_named_service_account_cannot_attribute_a_run_to_an_unnamed_member(
    client, secret, team, alice, bob, sam_and_key
):
    sam, sam_key = sam_and_key
    project_access_set(
        project=secret,
        actor=alice,
        restricted=True,
        memberships=Membership.objects.filter(entity=team, user=sam),
    )
    response = core_upsert(client, sam_key, project=SECRET, username="bob", name="forbob")
    message = refused(response, 403)
    assert "“bob” is not named on example-team/" + SECRET in message
    assert not Run.objects.filter(run_id="forbob").exists()
    # An admin needs no naming.
    ok(core_upsert(client, sam_key, project=SECRET, username="alice", name="foralice"))
    assert Run.objects.get(run_id="foralice").author == alice


@pytest.mark.django_db
def test_unnamed_member_cannot_log_to_it_and_learns_nothing_of_it(client, secret, bob):
    message = refused(core_upsert(client, api_key_for(bob), project=SECRET, name="bobrun1"), 403)
    assert "Ask an admin of example-team" in message
    assert not Run.objects.filter(run_id="bobrun1").exists()


@pytest.mark.django_db
def test_file_stream_to_a_run_of_it_is_404_for_unnamed_members(client, secret, bob, erin):
    run = RunFactory(project=secret, author=bob, run_id="old1")  # logged before it was restricted
    body = json.dumps({"files": {}})
    url = f"/files/example-team/{SECRET}/{run.run_id}/file_stream"
    for key, status in ((api_key_for(bob), 404), (api_key_for(erin), 403)):
        response = client.post(
            url, body, content_type="application/json", headers={"Authorization": basic(key)}
        )
        assert response.status_code == status


@pytest.mark.django_db(transaction=True)
def test_the_wandb_client_of_an_unnamed_member_neither_reads_nor_logs(
    live_server, tmp_path, team, alice, bob
):
    wandb = WandbClient(live_server.url, tmp_path)
    logged, completed = wandb.run("log_story.py", "example-team", key=api_key_for(alice))
    assert completed.returncode == 0, completed.stderr[-3000:]
    project = Run.objects.get(run_id=logged["id"]).project
    project_access_set(project=project, actor=alice, restricted=True, memberships=[])

    read, _ = wandb.run(
        "read_back.py", "example-team/resnet", logged["id"], key=api_key_for(bob), cache="c2"
    )
    assert "error" in read
    assert "baseline" not in json.dumps(read)
    result, completed = wandb.run("log_story.py", "example-team", key=api_key_for(bob))
    assert completed.returncode != 0
    assert "You cannot log to “example-team/resnet”" in result["error"]
    assert Run.objects.filter(project=project).count() == 1
