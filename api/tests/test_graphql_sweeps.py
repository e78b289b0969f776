"""Sweeps over the client's GraphQL: `wandb sweep` (UpsertSweep, in the five variants it tries),
`wandb agent` (SweepWithRuns, CreateAgent, Heartbeat), the sweep state commands and the public
API's sweep and agent reads. Operation texts as wandb 0.28.2 sends them
(wandb/sdk/internal/internal_api.py, wandb/apis/_generated/operations.py)."""

import json

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql import parse, validate

from api.graphql import schema
from projects.services import project_create
from sweeps.models import Sweep, SweepAgent

from . import test_graphql
from .test_graphql import core_upsert, gql, node_id, ok, refused

pytestmark = pytest.mark.django_db

demo, make_run = test_graphql.demo, test_graphql.make_run

_PROJECT_QUERY = """
            project {
                id
                name
                entity {
                    id
                    name
                }
            }
        """
_UPSERT_SWEEP = """
        mutation UpsertSweep(
            $id: ID,
            $config: String,
            $description: String,
            $entityName: String,
            $projectName: String,
            $controller: JSONString,
            $scheduler: JSONString,
            $state: String,
            $priorRunsFilters: JSONString,
            $displayName: String,
        ) {
            upsertSweep(input: {
                id: $id,
                config: $config,
                description: $description,
                entityName: $entityName,
                projectName: $projectName,
                controller: $controller,
                scheduler: $scheduler,
                state: $state,
                priorRunsFilters: $priorRunsFilters,
                displayName: $displayName,
            }) {
                sweep {
                    name
                    _PROJECT_QUERY_
                }
                configValidationWarnings
            }
        }
        """
# The client's five variants, built as upsert_sweep builds them; it tries them in this order.
UPSERT_SWEEP_VARIANTS = [
    _UPSERT_SWEEP.replace(
        "$controller: JSONString,",
        "$controller: JSONString,$launchScheduler: JSONString, "
        "$templateVariableValues: JSONString,",
    )
    .replace(
        "controller: $controller,",
        "controller: $controller,launchScheduler: $launchScheduler,templateVariableValues: "
        "$templateVariableValues,",
    )
    .replace("_PROJECT_QUERY_", _PROJECT_QUERY),
    _UPSERT_SWEEP.replace(
        "$controller: JSONString,", "$controller: JSONString,$launchScheduler: JSONString,"
    )
    .replace(
        "controller: $controller,", "controller: $controller,launchScheduler: $launchScheduler"
    )
    .replace("_PROJECT_QUERY_", _PROJECT_QUERY),
    _UPSERT_SWEEP.replace("_PROJECT_QUERY_", _PROJECT_QUERY),
    _UPSERT_SWEEP.replace("_PROJECT_QUERY_", _PROJECT_QUERY).replace(
        "configValidationWarnings", ""
    ),
    _UPSERT_SWEEP.replace("_PROJECT_QUERY_", "").replace("configValidationWarnings", ""),
]
SET_SWEEP_STATE = """
        mutation UpsertSweep(
            $id: ID,
            $state: String,
            $entityName: String,
            $projectName: String
        ) {
            upsertSweep(input: {
                id: $id,
                state: $state,
                entityName: $entityName,
                projectName: $projectName
            }){
                sweep {
                    name
                }
            }
        }
        """
SWEEP_WITH_RUNS = """
        query SweepWithRuns($entity: String, $project: String, $sweep: String!, \
$specs: [JSONString!]!) {
            project(name: $project, entityName: $entity) {
                sweep(sweepName: $sweep) {
                    id
                    name
                    method
                    state
                    description
                    config
                    createdAt
                    heartbeatAt
                    updatedAt
                    earlyStopJobRunning
                    bestLoss
                    controller
                    scheduler
                    runs {
                        edges {
                            node {
                                name
                                state
                                config
                                exitcode
                                heartbeatAt
                                shouldStop
                                failed
                                stopped
                                running
                                summaryMetrics
                                sampledHistory(specs: $specs)
                            }
                        }
                    }
                }
            }
        }
        """
CREATE_AGENT = """
        mutation CreateAgent(
            $host: String!
            $projectName: String,
            $entityName: String,
            $sweep: String!
        ) {
            createAgent(input: {
                host: $host,
                projectName: $projectName,
                entityName: $entityName,
                sweep: $sweep,
            }) {
                agent {
                    id
                }
            }
        }
        """
HEARTBEAT = """
        mutation Heartbeat(
            $id: ID!,
            $metrics: JSONString,
            $runState: JSONString
        ) {
            agentHeartbeat(input: {
                id: $id,
                metrics: $metrics,
                runState: $runState
            }) {
                agent {
                    id
                }
                commands
            }
        }
        """
GET_SWEEP_STATE = """
            query GetSweepState($entity: String, $project: String, $sweep: String!) {
                project(name: $project, entityName: $entity) {
                    sweep(sweepName: $sweep) {
                        state
                    }
                }
            }
            """
SWEEP_FRAGMENT = (
    "fragment SweepFragment on Sweep {\n  __typename\n  id\n  name\n  displayName\n  method\n"
    "  state\n  description\n  bestLoss\n  config\n  createdAt\n  updatedAt\n  runCount\n"
    "  runCountExpected\n}\n"
)
GET_SWEEP = (
    "\nquery GetSweep($name: String!, $project: String, $entity: String) {\n"
    "  project(name: $project, entityName: $entity) {\n    sweep(sweepName: $name) {\n"
    "      ...SweepFragment\n    }\n  }\n}\n\n" + SWEEP_FRAGMENT
)
GET_SWEEPS = (
    "\nquery GetSweeps($project: String!, $entity: String!, $filters: JSONString!, $cursor: "
    "String, $perPage: Int = 50) {\n  project(name: $project, entityName: $entity) {\n"
    "    totalSweeps\n    sweeps(after: $cursor, first: $perPage, filters: $filters) {\n"
    "      pageInfo {\n        ...PageInfoFragment\n      }\n      edges {\n        node {\n"
    "          ...SweepFragment\n        }\n      }\n    }\n  }\n}\n\n"
    "fragment PageInfoFragment on PageInfo {\n  __typename\n  endCursor\n  hasNextPage\n}\n\n"
    + SWEEP_FRAGMENT
)
AGENT_FRAGMENT = (
    "fragment AgentFragment on Agent {\n  id\n  name\n  host\n  state\n  totalRuns\n"
    "  createdAt\n  heartbeatAt\n}\n"
)
GET_SWEEP_AGENT = (
    "\nquery GetSweepAgent($agentID: String!, $sweep: String!, $entity: String, $project: "
    "String) {\n  project(name: $project, entityName: $entity) {\n    sweep(sweepName: $sweep) {\n"
    "      agent(agentName: $agentID) {\n        ...AgentFragment\n      }\n    }\n  }\n}\n\n"
    + AGENT_FRAGMENT
)
GET_SWEEP_AGENTS = (
    "\nquery GetSweepAgents($sweep: String!, $entity: String, $project: String) {\n"
    "  project(name: $project, entityName: $entity) {\n    sweep(sweepName: $sweep) {\n"
    "      agents {\n        edges {\n          node {\n            ...AgentFragment\n"
    "          }\n        }\n      }\n    }\n  }\n}\n\n" + AGENT_FRAGMENT
)

GRID = {
    "program": "train.py",
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"values": [0.1, 0.01]}, "layers": {"values": [1, 2]}},
}


def send(client, key, query, variables):
    return gql(client, key, None, variables, query=query)


def upsert_variables(config=GRID, **more):
    """What upsert_sweep sends for `wandb sweep config.yaml` in example-team/demo."""
    return {
        "id": None,
        "config": yaml.dump(config),
        "description": None,
        "entityName": "example-team",
        "projectName": "demo",
        "controller": None,
        "launchScheduler": None,
        "templateVariableValues": "null",
        "scheduler": None,
        "priorRunsFilters": None,
        "displayName": None,
        **more,
    }


def create_sweep(client, key, config=GRID, **more):
    data = ok(send(client, key, UPSERT_SWEEP_VARIANTS[0], upsert_variables(config, **more)))
    return Sweep.objects.get(name=data["upsertSweep"]["sweep"]["name"])


def where(sweep, **more):
    return {"entity": "example-team", "project": "demo", "sweep": sweep.name, **more}


def create_agent(client, key, sweep):
    variables = {"host": "vm", "entityName": "example-team", "projectName": "demo"}
    data = ok(send(client, key, CREATE_AGENT, {**variables, "sweep": sweep.name}))
    return data["createAgent"]["agent"]["id"]


def heartbeat(client, key, agent_id, run_state=None):
    variables = {"id": agent_id, "metrics": "{}", "runState": json.dumps(run_state or {})}
    return send(client, key, HEARTBEAT, variables)


def commands_of(response):
    commands = ok(response)["agentHeartbeat"]["commands"]
    assert isinstance(commands, str)  # the client json.loads it
    return json.loads(commands)


@pytest.fixture
def sweep(client, demo, alice_key):
    return create_sweep(client, alice_key)


# UpsertSweep


@pytest.mark.parametrize("variant", range(5))
def test_every_upsert_sweep_variant_the_client_tries_validates(variant):
    assert validate(schema, parse(UPSERT_SWEEP_VARIANTS[variant])) == []


def test_wandb_sweep_creates_a_pending_sweep_with_the_richest_variant(
    client, demo, alice, alice_key
):
    variables = upsert_variables()

    data = ok(send(client, alice_key, UPSERT_SWEEP_VARIANTS[0], variables))["upsertSweep"]

    sweep = Sweep.objects.get()
    assert data["sweep"]["name"] == sweep.name
    project = data["sweep"]["project"]
    assert (project["name"], project["entity"]["name"]) == ("demo", "example-team")
    assert data["configValidationWarnings"] == []
    assert sweep.config_yaml == variables["config"]  # answered back as sent
    assert (sweep.project, sweep.author) == (demo, alice)
    assert (sweep.state, sweep.method) == ("PENDING", "grid")


def test_a_sweep_without_a_project_lands_in_uncategorized(client, team, alice_key):
    data = ok(send(client, alice_key, UPSERT_SWEEP_VARIANTS[0], upsert_variables(projectName=None)))

    assert data["upsertSweep"]["sweep"]["project"]["name"] == "uncategorized"


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({**GRID, "method": "annealing"}, "Invalid sweep config"),
        ({**GRID, "parameters": {"lr": {"min": 0.0, "max": 1.0}}}, "Invalid sweep config"),
        ({"method": "bayes", "parameters": {"lr": {"min": 0.0, "max": 1.0}}}, "metric"),
    ],
)
def test_a_bad_config_is_400_with_the_reason_in_every_variant(
    client, demo, alice_key, config, fragment
):
    for variant in UPSERT_SWEEP_VARIANTS:
        message = refused(send(client, alice_key, variant, upsert_variables(config)), 400)
        assert fragment in message

    assert not Sweep.objects.exists()


def test_a_config_that_is_not_a_mapping_is_400(client, demo, alice_key):
    variables = {**upsert_variables(), "config": "- just\n- a list\n"}

    refused(send(client, alice_key, UPSERT_SWEEP_VARIANTS[0], variables), 400)
    assert not Sweep.objects.exists()


def test_an_outsider_cannot_create_a_sweep_in_a_private_team(client, demo, charlie_key):
    response = send(client, charlie_key, UPSERT_SWEEP_VARIANTS[0], upsert_variables())

    assert "example-team" in refused(response, 403)
    assert not Sweep.objects.exists()


def test_display_name_is_changed_by_node_id(client, sweep, alice_key):
    variables = upsert_variables(id=node_id("Sweep", sweep.pk), displayName="lr search")

    ok(send(client, alice_key, UPSERT_SWEEP_VARIANTS[0], variables))

    sweep.refresh_from_db()
    assert sweep.display_name == "lr search"


# State changes (wandb sweep --pause/--resume/--stop/--cancel)


def set_state(client, key, sweep, state):
    variables = {"entityName": "example-team", "projectName": "demo", "state": state}
    return send(client, key, SET_SWEEP_STATE, {**variables, "id": node_id("Sweep", sweep.pk)})


def test_the_author_pauses_resumes_and_cancels(client, sweep, alice_key):
    for state in ("PAUSED", "RUNNING", "CANCELED"):
        ok(set_state(client, alice_key, sweep, state))
        found = ok(send(client, alice_key, GET_SWEEP_STATE, where(sweep)))
        assert found["project"]["sweep"]["state"] == state


def test_a_member_who_is_not_the_author_cannot_change_the_state(client, sweep, bob_key):
    refused(set_state(client, bob_key, sweep, "PAUSED"), 403)

    sweep.refresh_from_db()
    assert sweep.state == "PENDING"


def test_a_refused_move_is_400(client, sweep, alice_key):
    ok(set_state(client, alice_key, sweep, "CANCELED"))

    refused(set_state(client, alice_key, sweep, "PAUSED"), 400)
    sweep.refresh_from_db()
    assert sweep.state == "CANCELED"


def test_an_outsider_gets_not_found_for_a_private_sweep(client, sweep, charlie_key):
    data = ok(send(client, charlie_key, SWEEP_WITH_RUNS, where(sweep, specs="{}")))
    assert data["project"] is None  # the client raises "Sweep ... not found"

    refused(set_state(client, charlie_key, sweep, "PAUSED"), 404)
    refused(send(client, charlie_key, CREATE_AGENT, {"host": "vm", **_agent_where(sweep)}), 404)


def test_a_reader_of_a_public_project_may_not_run_agents(
    client, public_team, alice, alice_key, charlie_key
):
    project_create(entity=public_team, name="open", creator=alice, visibility="public")
    sweep = create_sweep(client, alice_key, entityName="open-team", projectName="open")
    where_open = {"entityName": "open-team", "projectName": "open", "sweep": sweep.name}

    refused(send(client, charlie_key, CREATE_AGENT, {"host": "vm", **where_open}), 403)
    refused(set_state(client, charlie_key, sweep, "PAUSED"), 403)
    assert not SweepAgent.objects.exists()


def _agent_where(sweep):
    return {"entityName": "example-team", "projectName": "demo", "sweep": sweep.name}


# The agent: CreateAgent, Heartbeat, SweepWithRuns


def test_an_agent_gets_the_four_grid_points_then_exit(client, sweep, alice_key):
    agent_id = create_agent(client, alice_key, sweep)
    seen = []

    for _ in range(4):
        (command,) = commands_of(heartbeat(client, alice_key, agent_id))
        assert command["type"] == "run" and command["program"] == "train.py"
        seen.append((command["args"]["lr"]["value"], command["args"]["layers"]["value"]))
        # The run starts and finishes: one heartbeat reports it, the next does not.
        core_upsert(client, alice_key, name=command["run_id"], sweep=sweep.name, displayName=None)
        assert commands_of(heartbeat(client, alice_key, agent_id, {command["run_id"]: True})) == []

    assert sorted(seen) == [(0.01, 1), (0.01, 2), (0.1, 1), (0.1, 2)]
    assert commands_of(heartbeat(client, alice_key, agent_id)) == [{"type": "exit"}]
    sweep.refresh_from_db()
    assert sweep.state == "FINISHED"


def test_sweep_with_runs_answers_every_linked_run(client, sweep, alice_key):
    agent_id = create_agent(client, alice_key, sweep)
    (command,) = commands_of(heartbeat(client, alice_key, agent_id))
    run_id = command["run_id"]
    upserted = ok(core_upsert(client, alice_key, name=run_id, sweep=sweep.name))
    assert upserted["upsertBucket"]["bucket"]["sweepName"] == sweep.name

    data = ok(send(client, alice_key, SWEEP_WITH_RUNS, where(sweep, specs="{}")))

    found = data["project"]["sweep"]
    assert (found["name"], found["state"], found["method"]) == (sweep.name, "RUNNING", "grid")
    assert found["config"] == sweep.config_yaml
    assert found["heartbeatAt"] is not None
    (edge,) = found["runs"]["edges"]
    node = edge["node"]
    assert node["name"] == run_id
    flags = ("running", "failed", "stopped", "shouldStop")
    assert [node[flag] for flag in flags] == [True, False, False, False]
    assert node["sampledHistory"] == [[]]


def test_sweep_with_runs_costs_the_same_queries_for_more_runs(
    client, sweep, alice_key, make_run, alice, django_assert_num_queries
):
    def link(count):
        for _ in range(count):
            run = make_run(alice)
            ok(core_upsert(client, alice_key, name=run.run_id, sweep=sweep.name))

    def count_queries():
        with CaptureQueriesContext(connection) as context:
            ok(send(client, alice_key, SWEEP_WITH_RUNS, where(sweep, specs="{}")))
        return len(context)

    link(2)
    small = count_queries()
    link(4)
    with django_assert_num_queries(small):
        ok(send(client, alice_key, SWEEP_WITH_RUNS, where(sweep, specs="{}")))


def test_a_missing_sweep_is_null_to_sweep_with_runs(client, demo, alice_key):
    variables = {"entity": "example-team", "project": "demo", "sweep": "nope1234", "specs": "{}"}

    assert ok(send(client, alice_key, SWEEP_WITH_RUNS, variables))["project"]["sweep"] is None


def test_create_agent_for_an_unknown_sweep_is_404(client, demo, alice_key):
    variables = {"host": "vm", "entityName": "example-team", "projectName": "demo"}

    refused(send(client, alice_key, CREATE_AGENT, {**variables, "sweep": "nope1234"}), 404)
    assert not SweepAgent.objects.exists()


def test_a_heartbeat_for_an_unknown_agent_is_404(client, sweep, alice_key):
    refused(heartbeat(client, alice_key, node_id("Agent", 999999)), 404)
    refused(heartbeat(client, alice_key, "not-an-id"), 404)


def test_a_heartbeat_after_the_sweep_is_deleted_is_404(client, sweep, alice_key):
    agent_id = create_agent(client, alice_key, sweep)
    sweep.delete()

    refused(heartbeat(client, alice_key, agent_id), 404)


def test_a_heartbeat_with_a_run_state_that_is_not_an_object_is_400(client, sweep, alice_key):
    agent_id = create_agent(client, alice_key, sweep)
    variables = {"id": agent_id, "metrics": "{}", "runState": "[1]"}

    refused(send(client, alice_key, HEARTBEAT, variables), 400)


def test_a_paused_sweep_hands_out_nothing(client, sweep, alice_key):
    agent_id = create_agent(client, alice_key, sweep)
    ok(set_state(client, alice_key, sweep, "PAUSED"))

    assert commands_of(heartbeat(client, alice_key, agent_id)) == []


# The public API


def test_get_sweep_counts_runs_and_expects_the_grid(client, sweep, alice_key):
    agent_id = create_agent(client, alice_key, sweep)
    (command,) = commands_of(heartbeat(client, alice_key, agent_id))
    ok(core_upsert(client, alice_key, name=command["run_id"], sweep=sweep.name))

    variables = {"entity": "example-team", "project": "demo", "name": sweep.name}
    found = ok(send(client, alice_key, GET_SWEEP, variables))["project"]["sweep"]

    assert found["id"] == node_id("Sweep", sweep.pk)
    assert (found["runCount"], found["runCountExpected"], found["displayName"]) == (1, 4, None)
    runs = ok(
        gql(
            client,
            alice_key,
            "Runs",
            {
                "entity": "example-team",
                "project": "demo",
                "filters": json.dumps({"sweep": sweep.name}),
            },
        )
    )["project"]["runs"]["edges"]
    assert [edge["node"]["name"] for edge in runs] == [command["run_id"]]
    assert runs[0]["node"]["sweepName"] == sweep.name


def test_random_sweeps_expect_no_count(client, demo, alice_key):
    config = {**GRID, "method": "random", "run_cap": 2}
    sweep = create_sweep(client, alice_key, config)

    variables = {"entity": "example-team", "project": "demo", "name": sweep.name}
    found = ok(send(client, alice_key, GET_SWEEP, variables))["project"]["sweep"]

    assert found["runCountExpected"] is None


def test_project_sweeps_lists_and_filters(client, demo, team, alice, alice_key):
    first, second = create_sweep(client, alice_key), create_sweep(client, alice_key)
    project_create(entity=team, name="empty", creator=alice)
    variables = {"entity": "example-team", "project": "demo", "filters": "{}", "perPage": 1}

    page = ok(send(client, alice_key, GET_SWEEPS, variables))["project"]
    assert page["totalSweeps"] == 2
    assert [edge["node"]["name"] for edge in page["sweeps"]["edges"]] == [second.name]
    assert page["sweeps"]["pageInfo"]["hasNextPage"] is True

    filters = json.dumps({"name": {"$in": [first.name]}})
    page = ok(send(client, alice_key, GET_SWEEPS, {**variables, "filters": filters}))["project"]
    assert [edge["node"]["name"] for edge in page["sweeps"]["edges"]] == [first.name]
    empty = {**variables, "project": "empty"}
    assert ok(send(client, alice_key, GET_SWEEPS, empty))["project"]["totalSweeps"] == 0
    bad = {**variables, "filters": json.dumps({"config": "x"})}
    assert "config" in refused(send(client, alice_key, GET_SWEEPS, bad), 400)


def test_agents_are_found_by_name_or_id(client, sweep, alice_key):
    agent_id = create_agent(client, alice_key, sweep)
    agent = SweepAgent.objects.get()

    listed = ok(send(client, alice_key, GET_SWEEP_AGENTS, where(sweep)))["project"]["sweep"]
    (edge,) = listed["agents"]["edges"]
    assert (edge["node"]["id"], edge["node"]["name"], edge["node"]["host"]) == (
        agent_id,
        agent.name,
        "vm",
    )
    assert edge["node"]["totalRuns"] == 0
    for name in (agent.name, agent_id):
        variables = where(sweep, agentID=name)
        found = ok(send(client, alice_key, GET_SWEEP_AGENT, variables))["project"]["sweep"]
        assert found["agent"]["id"] == agent_id
    missing = ok(send(client, alice_key, GET_SWEEP_AGENT, where(sweep, agentID="nope")))
    assert missing["project"]["sweep"]["agent"] is None
