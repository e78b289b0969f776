"""Sweep writes: creating and changing sweeps, agents, linking runs. Heartbeats (handing out
points) and the agent timeout live in agents.py and are re-exported here. Every write is one
transaction; refusals raise SweepError."""

import json
import logging

import yaml
from django.db import IntegrityError, transaction
from django.utils import timezone

from runs.models import Run
from teams.access import Need, entity_permissions, may_change_own, viewer_refusal
from teams.selectors import may_write

from . import engine
from .agents import heartbeat, release_lost_agents, release_lost_sweep_agents
from .errors import SweepError
from .models import Sweep, SweepAgent, SweepRun, random_name

logger = logging.getLogger(__name__)

__all__ = [
    "SweepError",
    "agent_create",
    "heartbeat",
    "link_run",
    "release_lost_agents",
    "release_lost_sweep_agents",
    "sweep_create",
    "sweep_update",
]

State = Sweep.State
# A sweep config's size limit, in values (parameters, their settings, list items).
MAX_CONFIG_NODES = 100_000
# Which states each requested state may be reached from (design §3), and how to say a refusal.
MOVES = {
    State.PAUSED: {State.PENDING, State.RUNNING},
    State.FINISHED: {State.PENDING, State.RUNNING, State.PAUSED},
    State.CANCELED: {State.PENDING, State.RUNNING, State.PAUSED},
    State.RUNNING: {State.PENDING, State.PAUSED, State.FINISHED, State.CANCELED, State.FAILED},
    # launch-sweep --resume_id: back to PENDING unless the sweep runs.
    State.PENDING: {State.PAUSED, State.FINISHED, State.CANCELED, State.FAILED},
}
REFUSALS = {
    State.PAUSED: "Cannot pause {a} {state} sweep.",
    State.FINISHED: "Cannot stop {a} {state} sweep.",
    State.CANCELED: "Cannot cancel {a} {state} sweep.",
    State.RUNNING: "Cannot resume {a} {state} sweep.",
    State.PENDING: "Cannot set {a} {state} sweep back to pending.",
}


def _node_count(value) -> int:
    """The values in a parsed YAML document, counted up to MAX_CONFIG_NODES + 1 (aliases can
    make a small text expand enormously)."""
    count, stack = 0, [value]
    while stack and count <= MAX_CONFIG_NODES:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def parse_config(config_yaml: str) -> dict:
    """The sweep config from its YAML text, validated by the engine; SweepError 400 listing
    every problem otherwise."""
    try:
        config = yaml.safe_load(config_yaml or "")
    except yaml.YAMLError as error:
        raise SweepError(f"Invalid sweep config: the YAML does not parse ({error}).") from None
    if _node_count(config) > MAX_CONFIG_NODES:
        raise SweepError(f"Invalid sweep config: it has more than {MAX_CONFIG_NODES} values.")
    # Stored as JSON: YAML's dates and other non-JSON scalars become their text.
    config = json.loads(json.dumps(config, default=str))
    problems = engine.validate(config)
    if problems:
        listed = " ".join(f"{i}) {problem}" for i, problem in enumerate(problems, 1))
        raise SweepError(f"Invalid sweep config: {listed}")
    return config


def _apply_config(sweep: Sweep, config_yaml: str, config: dict) -> None:
    """Store the config and the fields the server reads from it."""
    metric = config.get("metric") if isinstance(config.get("metric"), dict) else {}
    run_cap = config.get("run_cap")
    sweep.config_yaml = config_yaml
    sweep.config = config
    sweep.method = config["method"]
    sweep.metric_name = str(metric.get("name") or "")
    sweep.metric_goal = str(metric.get("goal") or "minimize") if sweep.metric_name else ""
    sweep.run_cap = run_cap if isinstance(run_cap, int) and run_cap > 0 else None
    sweep.early_terminate = bool(config.get("early_terminate"))
    sweep.grid_size = engine.grid_size(config)


def _is_local_controller(config: dict) -> bool:
    controller = config.get("controller")
    return isinstance(controller, dict) and controller.get("type") == "local"


def _apply_controller(sweep: Sweep, controller: dict) -> None:
    """The local controller's JSON: its schedule is read at handout; `earlystop` names runs
    to stop."""
    if not isinstance(controller, dict):
        raise SweepError("The controller must be a JSON object.")
    sweep.controller = controller
    names = [name for name in controller.get("earlystop") or [] if isinstance(name, str)]
    if names and sweep.pk:
        sweep.slots.filter(run_name__in=names, state__in=SweepRun.LIVE_STATES).update(
            should_stop=True, stop_reason="controller"
        )


def _apply_scheduler(sweep: Sweep, scheduler, launch_scheduler, template_variable_values):
    for value, what in ((scheduler, "scheduler"), (launch_scheduler, "launch scheduler")):
        if value is None:
            continue
        if not isinstance(value, dict):
            raise SweepError(f"The {what} must be a JSON object.")
        # Kept beside the server's own "scheduled" list; the client reads `run_spec` back.
        sweep.scheduler = {
            **sweep.scheduler,
            **value,
            "scheduled": sweep.scheduler.get("scheduled", []),
        }
    if template_variable_values is not None:
        sweep.template_variable_values = template_variable_values


def sweep_points_remain(sweep: Sweep) -> bool:
    """Whether handing out could still find a point (a quick check: a grid whose remaining
    indices are all covered says True until a handout finds out)."""
    if sweep.slots.filter(state=SweepRun.State.QUEUED).exists():
        return True
    if sweep.run_cap is not None and sweep.points_issued >= sweep.run_cap:
        return False
    if sweep.method == "grid":
        return sweep.grid_cursor < (sweep.grid_size or 0)
    return True


def _set_state(sweep: Sweep, state: str) -> None:
    """Move the sweep to `state` by the table of §3; SweepError 400 for a refused move."""
    if state not in State.values:
        raise SweepError(f"Unknown sweep state {state!r}: use one of {', '.join(State.values)}.")
    if state == sweep.state:
        return
    if state == State.FAILED:
        raise SweepError("A sweep's state cannot be set to FAILED.")
    current = sweep.state
    if current not in MOVES[state]:
        article = "an" if current.lower()[0] in "aeiou" else "a"
        raise SweepError(REFUSALS[state].format(a=article, state=current.lower()))
    if (
        state == State.RUNNING
        and current in (State.FINISHED, State.CANCELED, State.FAILED)
        and not sweep_points_remain(sweep)
    ):
        raise SweepError(f"Cannot resume the {current.lower()} sweep: it has no points left.")
    if state == State.CANCELED:
        sweep.slots.filter(state__in=(SweepRun.State.RESERVED, SweepRun.State.RUNNING)).update(
            should_stop=True, stop_reason="canceled"
        )
    if current == State.FAILED:
        sweep.error = ""
    sweep.state = state


def _params_of(sweep: Sweep, run: Run) -> dict:
    """The sweep parameters' values in a run's config, in the engine's form."""
    config = run.config if isinstance(run.config, dict) else {}
    return {
        name: {"value": config[name]}
        for name in (sweep.config.get("parameters") or {})
        if name in config
    }


def _cover_point(sweep: Sweep, slot: SweepRun) -> None:
    """Save a run's slot; on a grid it covers its point when no live slot holds it yet."""
    if sweep.method == "grid":
        slot.point_index = engine.grid_index(sweep.config, slot.params)
    if slot.point_index is not None:
        try:
            with transaction.atomic():
                slot.save()
            return
        except IntegrityError:
            slot.pk = None
            slot.point_index = None
    slot.save()


def _add_prior_runs(sweep: Sweep, run_ids: list[str]) -> None:
    runs = Run.objects.filter(project=sweep.project, run_id__in=run_ids, sweep_link__isnull=True)
    for run in runs:
        _cover_point(
            sweep,
            SweepRun(
                sweep=sweep,
                run=run,
                run_name=run.run_id,
                kind=SweepRun.Kind.PRIOR,
                state=SweepRun.State.DONE,
                params=_params_of(sweep, run),
            ),
        )


def _write_refusal(actor, entity, refusal: str) -> SweepError:
    """A viewer of the team is told why; anyone else gets `refusal`."""
    if Need.VIEW in entity_permissions(actor, entity):
        return SweepError(viewer_refusal(entity, "create sweeps or run agents"), 403)
    return SweepError(refusal, 403)


@transaction.atomic
def sweep_create(
    *,
    actor,
    project,
    config_yaml: str,
    description: str = "",
    display_name: str = "",
    state: str | None = None,
    controller: dict | None = None,
    scheduler: dict | None = None,
    launch_scheduler: dict | None = None,
    template_variable_values=None,
    prior_run_ids: list[str] | None = None,
) -> Sweep:
    """Create a sweep in `project` from the YAML text; the actor needs WRITE on the project's
    entity (403). The config is validated by the engine (400 "Invalid sweep config: 1) ...").
    `state`: PENDING (the default), RUNNING or PAUSED. `prior_run_ids`: run ids of the project
    whose runs join the sweep as PRIOR slots (runs already in a sweep are skipped)."""
    if not may_write(actor, project.entity):
        raise _write_refusal(actor, project.entity, "You may not create sweeps in this project.")
    config = parse_config(config_yaml)
    state = state or State.PENDING
    if state not in (State.PENDING, State.RUNNING, State.PAUSED):
        raise SweepError(f"A new sweep starts PENDING, RUNNING or PAUSED, not {state!r}.")
    sweep = Sweep(
        project=project,
        author=actor if actor.is_authenticated else None,
        description=description or "",
        display_name=display_name or "",
        state=state,
    )
    _apply_config(sweep, config_yaml, config)
    _apply_scheduler(sweep, scheduler, launch_scheduler, template_variable_values)
    if controller is not None:
        _apply_controller(sweep, controller)
    sweep.name = random_name()
    while Sweep.objects.filter(name=sweep.name).exists():
        sweep.name = random_name()
    sweep.save()
    if prior_run_ids:
        _add_prior_runs(sweep, prior_run_ids)
    return sweep


def _remap_grid(sweep: Sweep) -> None:
    """After a config change: the live slots' grid points under the new config, and the
    cursor back to 0 (the handout skips points a slot holds)."""
    slots = list(sweep.slots.exclude(state=SweepRun.State.LOST).exclude(params={}))
    sweep.slots.exclude(point_index=None).update(point_index=None)
    sweep.grid_cursor = 0
    if sweep.method != "grid":
        return
    taken = set()
    changed = []
    for slot in slots:
        index = engine.grid_index(sweep.config, slot.params)
        if index is not None and index not in taken:
            taken.add(index)
            slot.point_index = index
            changed.append(slot)
    SweepRun.objects.bulk_update(changed, ["point_index"])


@transaction.atomic
def sweep_update(
    *,
    actor,
    sweep: Sweep,
    rights: set,
    config_yaml: str | None = None,
    description: str | None = None,
    display_name: str | None = None,
    state: str | None = None,
    controller: dict | None = None,
    scheduler: dict | None = None,
    launch_scheduler: dict | None = None,
    template_variable_values=None,
    prior_run_ids: list[str] | None = None,
) -> Sweep:
    """Change a sweep; None leaves a field as it is. `rights`: the actor's permissions on the
    sweep's entity (project.viewer_entity_permissions). A state change follows §3 and needs
    the author or an entity admin (403); a refused move is 400 ("Cannot pause a finished
    sweep."). The other fields need WRITE (403)."""
    if Need.WRITE not in rights and Need.ADMIN not in rights:
        raise SweepError("You may not change this sweep.", 403)
    if state is not None and not may_change_own(rights, sweep.author_id, actor):
        raise SweepError(
            "Only the sweep's author or an admin of its team may change its state.", 403
        )
    sweep = Sweep.objects.select_for_update().get(pk=sweep.pk)
    if config_yaml is not None and config_yaml != sweep.config_yaml:
        old_config = sweep.config
        _apply_config(sweep, config_yaml, parse_config(config_yaml))
        if sweep.config.get("parameters") != old_config.get("parameters") or (
            sweep.config.get("method") != old_config.get("method")
        ):
            _remap_grid(sweep)
    if description is not None:
        sweep.description = description
    if display_name is not None:
        sweep.display_name = display_name
    _apply_scheduler(sweep, scheduler, launch_scheduler, template_variable_values)
    if controller is not None:
        _apply_controller(sweep, controller)
    if state is not None:
        _set_state(sweep, state)
    if prior_run_ids:
        _add_prior_runs(sweep, prior_run_ids)
    sweep.save()
    return sweep


@transaction.atomic
def agent_create(*, actor, sweep: Sweep, host: str, persistent: bool = False) -> SweepAgent:
    """Register an agent for `sweep`; the actor needs WRITE on its entity (403). An agent of a
    sweep that is over is still made: its first heartbeat tells it to exit. `persistent`
    (agents that keep polling) needs nothing from the server."""
    if not may_write(actor, sweep.project.entity):
        raise _write_refusal(actor, sweep.project.entity, "You may not run agents for this sweep.")
    host = (host or "").strip()[:255]
    if not host:
        raise SweepError("The agent's host is required.")
    agent = SweepAgent(
        sweep=sweep,
        host=host,
        author=actor if actor.is_authenticated else None,
        heartbeat_at=timezone.now(),
    )
    agent.name = random_name()
    while SweepAgent.objects.filter(sweep=sweep, name=agent.name).exists():
        agent.name = random_name()
    agent.save()
    return agent


def link_run(*, run, sweep_name: str) -> None:
    """Attach `run` (just upserted with `sweep: sweep_name`) to the sweep of that name in the
    run's project: the slot reserved for its run id, else a new MANUAL slot (on a grid it
    covers its point if no other slot holds it). An unknown sweep is ignored (logged); a run
    already in a sweep stays where it is."""
    sweep = Sweep.objects.filter(project_id=run.project_id, name=sweep_name).first()
    if sweep is None:
        logger.info("Run %s names unknown sweep %s; not linked.", run.run_id, sweep_name)
        return
    with transaction.atomic():
        if SweepRun.objects.filter(run=run).exists():
            return
        slot = SweepRun.objects.select_for_update().filter(sweep=sweep, run_name=run.run_id).first()
        if slot is not None:
            slot.run = run
            if slot.state in (SweepRun.State.QUEUED, SweepRun.State.RESERVED):
                slot.state = SweepRun.State.RUNNING
            slot.save(update_fields=["run", "state"])
            return
        _cover_point(
            sweep,
            SweepRun(
                sweep=sweep,
                run=run,
                run_name=run.run_id,
                kind=SweepRun.Kind.MANUAL,
                # No agent reports on it, so it is never "in flight": the run's own state
                # tells whether it runs, and the sweep may finish around it.
                state=SweepRun.State.DONE,
                params=_params_of(sweep, run),
            ),
        )
