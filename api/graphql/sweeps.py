"""Sweeps: the client's UpsertSweep, SweepWithRuns, CreateAgent and Heartbeat, and the public
API's sweep and agent reads, adapted to sweeps.services. A sweep or agent the key may not see
is not found, as one that does not exist."""

import json

from ariadne import ObjectType
from django.db.models import Max, Q

from runs.models import Run
from runs.services import RunsError
from runs.tracking import writable_entity, writable_project
from sweeps import selectors as sweep_selectors
from sweeps import services as sweep_services
from sweeps.models import Sweep, SweepAgent, SweepRun
from sweeps.page_selectors import sweep_agents

from .common import (
    MAX_PAGE,
    ApiError,
    actor_of,
    default_entity,
    json_argument,
    mutation,
    node_id,
    pk_from_node_id,
    refusal,
    visible_project,
)
from .projects import filtered_runs, project_type, runs_page

DEFAULT_PROJECT = "uncategorized"
# The sweeps listing's filters: the fields the public API filters by, and their columns.
SWEEP_FILTER_FIELDS = {"name": "name", "displayName": "display_name", "state": "state"}

sweep_type = ObjectType("Sweep")
agent_type = ObjectType("Agent")


def _refusal(error: sweep_services.SweepError) -> ApiError:
    return ApiError(error.message, status=error.status)


def _entity_name(info, entity_name) -> str:
    if entity_name:
        return entity_name
    entity = default_entity(actor_of(info))
    return entity.name if entity else ""


def _json_object(value, what: str) -> dict | None:
    """A JSONString input holding an object, or None ("null" is the client's unset)."""
    if value is None:
        return None
    decoded = json_argument(value, what)
    if decoded is not None and not isinstance(decoded, dict):
        raise ApiError(f"{what} must be a JSON object.")
    return decoded


def _visible_sweep(info, sweep: Sweep | None) -> Sweep:
    project = (
        None
        if sweep is None
        else visible_project(info, sweep.project.entity.name, sweep.project.name)
    )
    if project is None:
        raise ApiError("Sweep not found.", status=404)
    sweep.project = project
    return sweep


def _sweep_by_node_id(info, value) -> Sweep:
    sweep = (
        Sweep.objects.select_related("project__entity", "author")
        .filter(pk=pk_from_node_id(value, "Sweep"))
        .first()
    )
    return _visible_sweep(info, sweep)


def _prior_run_ids(project, filters) -> list[str] | None:
    """The run ids of `priorRunsFilters` ({"$or": [{"name": id}, ...]} from the client): the
    project's runs that match, through the one run-query model."""
    if filters is None:
        return None
    filters = json_argument(filters, "priorRunsFilters")
    if filters is None:
        return None
    return list(filtered_runs(project, filters).values_list("run_id", flat=True))


# Mutations


@mutation.field("upsertSweep")
def resolve_upsert_sweep(_, info, input):
    """Create a sweep (no id) or change one named by its node id."""
    actor = actor_of(info)
    fields = {
        "description": input.get("description"),
        "display_name": input.get("displayName"),
        "state": input.get("state"),
        "controller": _json_object(input.get("controller"), "controller"),
        "scheduler": _json_object(input.get("scheduler"), "scheduler"),
        "launch_scheduler": _json_object(input.get("launchScheduler"), "launchScheduler"),
        "template_variable_values": _json_object(
            input.get("templateVariableValues"), "templateVariableValues"
        ),
    }
    try:
        if input.get("id"):
            sweep = _sweep_by_node_id(info, input["id"])
            sweep = sweep_services.sweep_update(
                actor=actor,
                sweep=sweep,
                rights=sweep.project.viewer_entity_permissions,
                config_yaml=input.get("config"),
                prior_run_ids=_prior_run_ids(sweep.project, input.get("priorRunsFilters")),
                **fields,
            )
            inserted = False
        else:
            if not input.get("config"):
                raise ApiError("A sweep needs a config.")
            entity = writable_entity(
                actor, _entity_name(info, input.get("entityName")), action="create sweeps"
            )
            project = writable_project(actor, entity, input.get("projectName") or DEFAULT_PROJECT)
            sweep = sweep_services.sweep_create(
                actor=actor,
                project=project,
                config_yaml=input["config"],
                prior_run_ids=_prior_run_ids(project, input.get("priorRunsFilters")),
                **{
                    **fields,
                    "description": fields["description"] or "",
                    "display_name": fields["display_name"] or "",
                },
            )
            inserted = True
    except sweep_services.SweepError as error:
        raise _refusal(error) from None
    except RunsError as error:
        raise refusal(error) from None
    return {
        "sweep": sweep,
        "inserted": inserted,
        # The engine's refusals are 400s with every violation named; nothing is only a warning.
        "configValidationWarnings": [],
        "clientMutationId": input.get("clientMutationId"),
    }


@mutation.field("createAgent")
def resolve_create_agent(_, info, input):
    project = visible_project(
        info,
        _entity_name(info, input.get("entityName")),
        input.get("projectName") or DEFAULT_PROJECT,
    )
    sweep = None if project is None else sweep_selectors.sweep_by_name(project, input["sweep"])
    if sweep is None:
        raise ApiError(f"Sweep {input['sweep']} not found.", status=404)
    sweep.project = project
    try:
        agent = sweep_services.agent_create(
            actor=actor_of(info),
            sweep=sweep,
            host=input["host"],
            persistent=bool(input.get("persistent")),
        )
    except sweep_services.SweepError as error:
        raise _refusal(error) from None
    return {"agent": agent, "clientMutationId": input.get("clientMutationId")}


@mutation.field("agentHeartbeat")
def resolve_agent_heartbeat(_, info, input):
    """The agent's poll: a 404 makes the client drain its runs and exit (the sweep is gone)."""
    agent = (
        SweepAgent.objects.select_related("sweep__project__entity")
        .filter(pk=pk_from_node_id(input["id"], "Agent"))
        .first()
    )
    if agent is None:
        raise ApiError("Agent not found.", status=404)
    agent.sweep = _visible_sweep(info, agent.sweep)
    run_states = json_argument(input.get("runState") or "{}", "runState")
    if not isinstance(run_states, dict):
        raise ApiError('runState must be a JSON object such as {"<run id>": true}.')
    try:
        commands = sweep_services.heartbeat(
            actor=actor_of(info),
            agent=agent,
            run_states={str(run_id): bool(alive) for run_id, alive in run_states.items()},
        )
    except sweep_services.SweepError as error:
        raise _refusal(error) from None
    # The client json.loads the commands: a JSON string of a list.
    return {
        "agent": agent,
        "commands": json.dumps(commands),
        "clientMutationId": input.get("clientMutationId"),
    }


# The project's sweeps


@project_type.field("sweep")
def resolve_project_sweep(project, _, sweepName):
    sweep = sweep_selectors.sweep_by_name(project, sweepName)
    if sweep is not None:
        sweep.project = project
    return sweep


@project_type.field("totalSweeps")
def resolve_project_total_sweeps(project, _):
    return sweep_selectors.project_sweeps(project).count()


def _sweep_filters(filters) -> Q:
    """The public API's sweep filters: {field: value}, {field: {"$in" | "$eq" | "$ne": ...}},
    "$and" and "$or" of those, over name, displayName and state."""
    if not isinstance(filters, dict):
        raise ApiError("Sweep filters must be a JSON object.")
    condition = Q()
    for key, value in filters.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise ApiError(f"{key} takes a non-empty list of filters.")
            parts = [_sweep_filters(part) for part in value]
            combined = parts[0]
            for part in parts[1:]:
                combined = combined & part if key == "$and" else combined | part
            condition &= combined
        elif key in SWEEP_FILTER_FIELDS:
            condition &= _sweep_field_filter(SWEEP_FILTER_FIELDS[key], key, value)
        else:
            raise ApiError(f"Filtering sweeps by “{key}” is not supported.")
    return condition


def _sweep_field_filter(column: str, key: str, value) -> Q:
    if isinstance(value, str):
        return Q(**{column: value})
    if isinstance(value, dict) and len(value) == 1:
        (operator, operand), *_ = value.items()
        if operator == "$eq" and isinstance(operand, str):
            return Q(**{column: operand})
        if operator == "$ne" and isinstance(operand, str):
            return ~Q(**{column: operand})
        if operator in ("$in", "$nin") and isinstance(operand, list):
            if not all(isinstance(item, str) for item in operand):
                raise ApiError(f"{key} is text: {operator} takes a list of strings.")
            condition = Q(**{f"{column}__in": operand})
            return ~condition if operator == "$nin" else condition
    raise ApiError(f"Unsupported filter on {key}: use a string, $eq, $ne, $in or $nin.")


@project_type.field("sweeps")
def resolve_project_sweeps(project, _, after=None, first=50, filters=None, order=None):
    """A page of the project's sweeps, newest first; the cursor is an offset."""
    sweeps = sweep_selectors.project_sweeps(project)
    if filters:
        sweeps = sweeps.filter(_sweep_filters(json_argument(filters, "filters") or {}))
    first = max(1, min(first or 50, MAX_PAGE))
    try:
        start = int(after) if after else 0
    except ValueError:
        raise ApiError("Invalid cursor.") from None
    if start < 0:
        raise ApiError("Invalid cursor.")
    page = list(sweeps[start : start + first + 1])
    for sweep in page:
        sweep.project = project
    edges = [{"node": sweep, "cursor": str(start + i + 1)} for i, sweep in enumerate(page[:first])]
    return {
        "edges": edges,
        "pageInfo": {
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else after,
            "hasNextPage": len(page) > first,
            "hasPreviousPage": start > 0,
        },
    }


# Sweep


@sweep_type.field("id")
def resolve_sweep_id(sweep, _):
    return node_id("Sweep", sweep.pk)


@sweep_type.field("displayName")
def resolve_sweep_display_name(sweep, _):
    # Null unless set: the client names the sweep by config.name or its id then.
    return sweep.display_name or None


@sweep_type.field("config")
def resolve_sweep_config(sweep, _):
    return sweep.config_yaml


@sweep_type.field("user")
def resolve_sweep_user(sweep, _):
    return sweep.author


@sweep_type.field("heartbeatAt")
def resolve_sweep_heartbeat_at(sweep, _):
    # Read from the agents: a heartbeat never writes the sweep row.
    return sweep.agents.aggregate(last=Max("heartbeat_at"))["last"]


@sweep_type.field("bestLoss")
def resolve_sweep_best_loss(sweep, _):
    run = sweep_selectors.best_run(sweep) if sweep.metric_name else None
    value = None if run is None else run.summary.get(sweep.metric_name)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


@sweep_type.field("runCount")
def resolve_sweep_run_count(sweep, _):
    return sweep_selectors.sweep_runs(sweep).count()


@sweep_type.field("runCountExpected")
def resolve_sweep_run_count_expected(sweep, _):
    # Only a grid knows how many runs it takes; a run cap alone says nothing to the client.
    if sweep.method != "grid" or sweep.grid_size is None:
        return None
    return min(sweep.grid_size, sweep.run_cap) if sweep.run_cap else sweep.grid_size


@sweep_type.field("earlyStopJobRunning")
def resolve_sweep_early_stop_job_running(*_):
    # Early stopping runs inside the heartbeat: there is no job to wait for.
    return False


@sweep_type.field("controller")
def resolve_sweep_controller(sweep, _):
    return None if sweep.controller is None else json.dumps(sweep.controller)


@sweep_type.field("scheduler")
def resolve_sweep_scheduler(sweep, _):
    return json.dumps(sweep.scheduler or {})


@sweep_type.field("runs")
def resolve_sweep_runs(sweep, _, filters=None, after=None, first=None, order=None):
    """Every linked run unless a page is asked for: the agents' SweepWithRuns pages nothing."""
    runs = filtered_runs(sweep.project, filters).filter(sweep_link__sweep=sweep)
    if first is None and after is None:
        return runs_page(runs, sweep.project, order=order or "+created_at", everything=True)
    return runs_page(runs, sweep.project, after=after, first=first, order=order)


@sweep_type.field("priorRuns")
def resolve_sweep_prior_runs(sweep, _):
    runs = Run.objects.filter(sweep_link__sweep=sweep, sweep_link__kind=SweepRun.Kind.PRIOR)
    return runs_page(runs, sweep.project, order="+created_at", everything=True)


def _attached(agent, sweep):
    agent.sweep = sweep
    return agent


@sweep_type.field("agent")
def resolve_sweep_agent(sweep, _, agentName):
    """An agent by its name or its node id (createAgent answers the id, the list both)."""
    agents = sweep_agents(sweep)
    agent = agents.filter(name=agentName).first()
    if agent is None:
        try:
            agent = agents.filter(pk=pk_from_node_id(agentName, "Agent")).first()
        except ApiError:
            return None
    return None if agent is None else _attached(agent, sweep)


@sweep_type.field("agents")
def resolve_sweep_agents(sweep, _):
    return {"edges": [{"node": _attached(agent, sweep)} for agent in sweep_agents(sweep)]}


# Agent


@agent_type.field("id")
def resolve_agent_id(agent, _):
    return node_id("Agent", agent.pk)


@agent_type.field("totalRuns")
def resolve_agent_total_runs(agent, _):
    total = getattr(agent, "run_count", None)  # sweep_agents annotates it
    if total is None:
        total = agent.slots.filter(run__isnull=False, run__trashed_at__isnull=True).count()
    return total


@agent_type.field("runs")
def resolve_agent_runs(agent, _, after=None, before=None, first=None, last=None, order=None):
    if before is not None or last is not None:
        raise ApiError("An agent's runs page forwards only: use after and first.")
    project = agent.sweep.project
    runs = Run.objects.filter(project=project, sweep_link__agent=agent)
    return runs_page(runs, project, after=after, first=first or 50, order=order)
