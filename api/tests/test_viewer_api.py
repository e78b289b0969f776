"""A team's viewer through the machine APIs: her key reads what members read, every write to the
team is refused with a message that says why, and nothing changes."""

import json

import pytest

from artifacts.models import Artifact, ArtifactCollection
from projects.services import project_create
from runs.models import Point, Run
from sweeps import services as sweep_services
from sweeps.models import Sweep, SweepAgent
from teams import services
from teams.models import Role
from tests.factories import RunFactory, api_key_for

from .test_graphql import basic, core_upsert, gql, node_id, ok, refused
from .test_graphql_sweeps import CREATE_AGENT, GRID, UPSERT_SWEEP_VARIANTS, upsert_variables

pytestmark = pytest.mark.django_db

VIEWER_REFUSAL = "You are a viewer in example-team; viewers cannot"


@pytest.fixture
def vera_key(vera):
    return api_key_for(vera)


@pytest.fixture
def demo(team, alice):
    return project_create(entity=team, name="demo", creator=alice)


@pytest.fixture
def bob_run(demo, bob):
    return RunFactory(project=demo, author=bob, run_id="bobrun1", name="bob-run")


def test_viewer_logs_no_run_to_the_team(client, demo, vera_key):
    message = refused(core_upsert(client, vera_key), 403)
    assert message.startswith(f"{VIEWER_REFUSAL} log runs.")
    assert not Run.objects.exists()


def test_viewer_creates_no_project_by_logging(client, team, vera_key):
    message = refused(core_upsert(client, vera_key, project="fresh"), 403)
    assert VIEWER_REFUSAL in message
    assert not team.projects.filter(name="fresh").exists()


def test_viewer_reads_the_private_teams_runs(client, bob_run, vera_key):
    query = (
        "query P($entity: String!, $project: String!) { project(name: $project, "
        "entityName: $entity) { runs { edges { node { name displayName } } } } }"
    )
    data = ok(
        gql(client, vera_key, None, {"entity": "example-team", "project": "demo"}, query=query)
    )
    [edge] = data["project"]["runs"]["edges"]
    assert edge["node"] == {"name": "bobrun1", "displayName": "bob-run"}


def test_viewer_query_never_offers_the_team_to_log_to(client, team, vera, vera_key):
    viewer = ok(gql(client, vera_key, "Viewer"))["viewer"]
    assert viewer["entity"] == "vera"
    assert [edge["node"]["name"] for edge in viewer["teams"]["edges"]] == ["vera"]


def test_viewer_query_still_names_a_members_team(client, team, bob):
    viewer = ok(gql(client, api_key_for(bob), "Viewer"))["viewer"]
    assert viewer["entity"] == "example-team"
    assert [edge["node"]["name"] for edge in viewer["teams"]["edges"]] == ["bob", "example-team"]


def stream(client, key, run_id):
    body = {"files": {"wandb-history.jsonl": {"offset": 0, "content": ['{"_step": 0, "x": 1}']}}}
    return client.post(
        f"/files/example-team/demo/{run_id}/file_stream",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": basic(key)},
    )


def test_viewer_cannot_stream_to_a_run(client, bob_run, vera_key):
    assert stream(client, vera_key, "bobrun1").status_code == 403
    assert not Point.objects.filter(run=bob_run).exists()


def test_a_demoted_author_no_longer_writes_to_their_run(client, team, demo, bob, membership_of):
    run = RunFactory(project=demo, author=bob, run_id="own1", name="mine")
    services.membership_set_role(membership=membership_of(team, bob), role=Role.VIEWER)
    response = stream(client, api_key_for(bob), "own1")
    assert response.status_code == 403
    assert not Point.objects.filter(run=run).exists()


def test_viewer_cannot_edit_an_artifact(client, bob_run, vera_key):
    collection = ArtifactCollection.objects.create(
        project=bob_run.project, name="data", type="dataset"
    )
    artifact = Artifact.objects.create(
        collection=collection,
        version_index=0,
        digest="0" * 32,
        state=Artifact.State.COMMITTED,
        created_by_run=bob_run,
    )
    mutation = (
        "mutation U($input: UpdateArtifactInput!) { updateArtifact(input: $input) "
        "{ artifact { id } } }"
    )
    variables = {"input": {"artifactID": node_id("Artifact", artifact.pk), "description": "x"}}
    message = refused(gql(client, vera_key, None, variables, query=mutation), 403)
    assert message.startswith(f"{VIEWER_REFUSAL} change artifacts.")
    artifact.refresh_from_db()
    assert artifact.description != "x"


def test_viewer_cannot_move_or_delete_runs_with_the_json_api(
    client, team, alice, demo, bob_run, vera_key
):
    target = project_create(entity=team, name="target", creator=alice)
    headers = {"Authorization": basic(vera_key)}
    moved = client.post(
        "/api/v1/projects/example-team/demo/runs/move",
        json.dumps({"run_ids": ["bobrun1"], "target": target.path}),
        content_type="application/json",
        headers=headers,
    )
    assert moved.status_code == 403
    assert moved.json()["detail"].startswith(f"{VIEWER_REFUSAL} move or delete runs.")
    deleted = client.post(
        "/api/v1/projects/example-team/demo/runs/delete",
        json.dumps({"run_ids": ["bobrun1"]}),
        content_type="application/json",
        headers=headers,
    )
    assert deleted.status_code == 403
    assert Run.objects.filter(pk=bob_run.pk, project=demo).exists()


def test_viewer_lists_runs_with_the_json_api(client, bob_run, vera_key):
    response = client.get(
        "/api/v1/projects/example-team/demo/runs", headers={"Authorization": basic(vera_key)}
    )
    assert response.status_code == 200
    assert "bobrun1" in response.content.decode()


def test_a_service_account_attributes_no_run_to_a_viewer(client, demo, vera, sam_and_key):
    message = refused(core_upsert(client, sam_and_key[1], username="vera"), 403)
    assert "“vera” is a viewer in example-team" in message
    assert not Run.objects.exists()


def test_viewer_creates_no_sweep_and_runs_no_agent(client, demo, bob, vera_key):
    sweep = sweep_services.sweep_create(
        actor=bob, project=demo, config_yaml="method: grid\nparameters: {a: {values: [1]}}"
    )
    created = refused(
        gql(
            client,
            vera_key,
            None,
            upsert_variables(GRID),
            query=UPSERT_SWEEP_VARIANTS[0],
        ),
        403,
    )
    assert created.startswith(f"{VIEWER_REFUSAL} create sweeps.")
    variables = {"host": "vm", "entityName": "example-team", "projectName": "demo"}
    agent = refused(
        gql(client, vera_key, None, {**variables, "sweep": sweep.name}, query=CREATE_AGENT), 403
    )
    assert agent.startswith(f"{VIEWER_REFUSAL} create sweeps or run agents.")
    assert Sweep.objects.count() == 1 and not SweepAgent.objects.exists()
