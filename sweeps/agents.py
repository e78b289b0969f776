"""Agents: the heartbeat that hands out points and relays stops, and the agent timeout.

The heartbeat's fast path touches only the agent row and its few slots, never the sweep's
other runs. Handing out a point is one transaction holding the sweep row's lock
(select_for_update on PostgreSQL; on SQLite every transaction is IMMEDIATE, which serialises
writers), with the partial unique constraint "a grid point is live once" as the backstop."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from runs.models import Run
from runs.services import runs_crash
from teams.selectors import may_write

from . import early_stop, engine
from .errors import SweepError
from .models import Sweep, SweepAgent, SweepRun, random_name

logger = logging.getLogger(__name__)

State = Sweep.State
Slot = SweepRun.State
HANDED = (Slot.RESERVED, Slot.RUNNING)
EXIT = {"type": "exit"}
# Grid indices read per query while skipping the points that slots already hold.
GRID_WINDOW = 256
# Bayes search learns from the newest runs only: a GP fit grows with the cube of its points.
BAYES_WINDOW = 1000


def _finish_agent(agent: SweepAgent) -> list[dict]:
    SweepAgent.objects.filter(pk=agent.pk).update(state=SweepAgent.State.FINISHED)
    return [EXIT]


def heartbeat(*, actor, agent: SweepAgent, run_states: dict[str, bool]) -> list[dict]:
    """The agent's heartbeat; the actor needs WRITE on the sweep's entity (403), a deleted agent
    or sweep is 404. `run_states` maps the run ids the agent still runs to True. Returns the
    client's commands: {"type": "stop", "run_id"} for runs to stop, then, when the agent runs
    nothing, {"type": "run", "run_id", "program", "args"} (a point handed out), or
    {"type": "exit"} once the sweep is over; [] means "nothing to do, beat again"."""
    if not isinstance(run_states, dict):
        raise SweepError("runState must be a JSON object of run ids.")
    now = timezone.now()
    agent = SweepAgent.objects.select_related("sweep__project__entity").filter(pk=agent.pk).first()
    if agent is None:
        raise SweepError("This agent's sweep no longer exists.", 404)
    sweep = agent.sweep
    if not may_write(actor, sweep.project.entity):
        raise SweepError("You may not run agents for this sweep.", 403)
    # (An empty id would match the queued slots, which have none yet.)
    reported = [str(name) for name, alive in run_states.items() if alive and str(name)]
    # A beat revives a timed-out agent; a finished one stays finished.
    revived = Case(
        When(state=SweepAgent.State.CRASHED, then=Value(SweepAgent.State.RUNNING)),
        default=F("state"),
    )
    SweepAgent.objects.filter(pk=agent.pk).update(heartbeat_at=now, state=revived)
    slots = list(
        SweepRun.objects.filter(sweep=sweep).filter(
            Q(agent=agent, state__in=HANDED) | Q(run_name__in=reported)
        )
    )
    mine = [slot for slot in slots if slot.agent_id == agent.pk]
    started = [s.pk for s in mine if s.state == Slot.RESERVED and s.run_name in reported]
    ended = [s.pk for s in mine if s.state in HANDED and s.run_name not in reported]
    if started:
        SweepRun.objects.filter(pk__in=started, state=Slot.RESERVED).update(state=Slot.RUNNING)
    if ended:
        SweepRun.objects.filter(pk__in=ended, state__in=HANDED).update(state=Slot.DONE, done_at=now)
    if sweep.early_terminate and sweep.state == State.RUNNING:
        early_stop.evaluate_soon(sweep, now)
    by_name = {slot.run_name: slot for slot in slots}
    # A run to stop: flagged, lost (its point went to another agent), or not this agent's.
    stops = [
        {"type": "stop", "run_id": name}
        for name in reported
        if (slot := by_name.get(name)) is None
        or slot.agent_id != agent.pk
        or slot.state == Slot.LOST
        or slot.should_stop
    ]
    if reported:
        if sweep.state in (State.CANCELED, State.FAILED):
            return _finish_agent(agent)
        return stops
    return _idle(agent, sweep, now)


def _idle(agent: SweepAgent, sweep: Sweep, now) -> list[dict]:
    """The answer to an agent that runs nothing."""
    if sweep.state == State.PAUSED:
        return []
    if sweep.state not in (State.PENDING, State.RUNNING):
        return _finish_agent(agent)
    return _handout(agent, sweep, now)


def _engine_runs(sweep: Sweep) -> list[dict]:
    """The sweep's points so far as the engine reads them (bayes): newest BAYES_WINDOW slots
    that hold every top-level parameter, leaving out runs deleted to the trash."""
    names = set(sweep.config.get("parameters") or {})
    slots = (
        sweep.slots.exclude(state=Slot.LOST)
        .filter(Q(run__isnull=True) | Q(run__trashed_at__isnull=True))
        .select_related("run")
        .only("run_name", "params", "state", "run__state", "run__summary")
        .order_by("-id")[:BAYES_WINDOW]
    )
    return [
        {
            "name": slot.run_name or f"slot-{slot.pk}",
            "state": slot.run.state if slot.run else "running",
            "config": slot.params,
            "summaryMetrics": slot.run.summary if slot.run else {},
        }
        for slot in slots
        if names <= set(slot.params)
    ]


def _handout(agent: SweepAgent, sweep: Sweep, now) -> list[dict]:
    suggestion = None
    if sweep.method in ("random", "bayes") and not _local_controller(sweep):
        # Outside the lock: a GP fit takes ~0.2 s.
        try:
            runs = _engine_runs(sweep) if sweep.method == "bayes" else []
            suggestion = engine.suggest(sweep.config, runs)
        except Exception as error:
            logger.exception("Sweep %s: the engine failed to suggest a point.", sweep.name)
            Sweep.objects.filter(pk=sweep.pk, state__in=(State.PENDING, State.RUNNING)).update(
                state=State.FAILED, error=f"The search engine failed: {error}"[:2000]
            )
            return _finish_agent(agent)
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _handout_locked(agent, sweep.pk, now, suggestion)
        except IntegrityError:
            # Another handout took the point first; the retry sees it taken.
            if attempt:
                raise
    return []  # pragma: no cover


def _local_controller(sweep: Sweep) -> bool:
    controller = sweep.config.get("controller")
    return isinstance(controller, dict) and controller.get("type") == "local"


def _controller_slot(sweep: Sweep) -> tuple[SweepRun | None, bool]:
    """The local controller's next scheduled entry not handed out yet, and whether the
    controller said the search is over (an entry without args)."""
    handed = {entry.get("id") for entry in sweep.scheduler.get("scheduled", [])}
    for entry in (sweep.controller or {}).get("schedule") or []:
        if not isinstance(entry, dict) or entry.get("id") in handed:
            continue
        args = (entry.get("data") or {}).get("args")
        if args is None:
            return None, True
        return (
            SweepRun(kind=SweepRun.Kind.CONTROLLER, params=args, schedule_id=str(entry["id"])),
            False,
        )
    return None, False


def _grid_slot(sweep: Sweep) -> SweepRun | None:
    """A slot for the first grid point at or after the cursor that no slot holds."""
    size = sweep.grid_size or 0
    start = sweep.grid_cursor
    while start < size:
        end = min(size, start + GRID_WINDOW)
        taken = set(
            sweep.slots.filter(point_index__gte=start, point_index__lt=end)
            .exclude(state=Slot.LOST)
            .values_list("point_index", flat=True)
        )
        free = next((i for i in range(start, end) if i not in taken), None)
        if free is not None:
            sweep.grid_cursor = free + 1
            return SweepRun(point_index=free, params=engine.grid_point(sweep.config, free))
        start = end
    sweep.grid_cursor = size
    return None


def _new_run_name(sweep: Sweep) -> str:
    """A run id no run or slot of the project has (the run is created after the handout)."""
    while True:
        name = random_name()
        clash = (
            Run.with_trashed.filter(project_id=sweep.project_id, run_id=name).exists()
            or SweepRun.objects.filter(sweep__project_id=sweep.project_id, run_name=name).exists()
        )
        if not clash:
            return name


def _handout_locked(agent: SweepAgent, sweep_pk: int, now, suggestion) -> list[dict]:
    sweep = Sweep.objects.select_for_update().select_related("project").get(pk=sweep_pk)
    if sweep.state not in (State.PENDING, State.RUNNING):
        return _idle(agent, sweep, now)
    release_lost_agents(sweep, now)
    slot = sweep.slots.filter(state=Slot.QUEUED).order_by("id").first()
    new = exhausted = False
    if slot is None:
        if _local_controller(sweep):
            slot, exhausted = _controller_slot(sweep)
        elif sweep.run_cap is not None and sweep.points_issued >= sweep.run_cap:
            exhausted = True
        elif sweep.method == "grid":
            slot = _grid_slot(sweep)
            exhausted = slot is None
        elif suggestion is not None:
            slot = SweepRun(params=suggestion)
        new = slot is not None
    if slot is None:
        if exhausted and not sweep.slots.filter(state__in=SweepRun.LIVE_STATES).exists():
            sweep.state = State.FINISHED
            sweep.save(update_fields=["state", "grid_cursor", "updated_at"])
            return _finish_agent(agent)
        sweep.save(update_fields=["grid_cursor"])
        return []
    slot.sweep = sweep
    slot.agent = agent
    slot.run_name = _new_run_name(sweep)
    slot.state = Slot.RESERVED
    slot.handed_at = now
    slot.save()
    if new:
        sweep.points_issued += 1
    if slot.schedule_id:
        scheduled = [*sweep.scheduler.get("scheduled", [])]
        scheduled.append({"id": slot.schedule_id, "runid": slot.run_name})
        sweep.scheduler = {**sweep.scheduler, "scheduled": scheduled}
    if sweep.state == State.PENDING:
        sweep.state = State.RUNNING
    sweep.save(update_fields=["state", "points_issued", "grid_cursor", "scheduler", "updated_at"])
    return [
        {
            "type": "run",
            "run_id": slot.run_name,
            "program": sweep.config.get("program"),
            "args": slot.params,
        }
    ]


def release_lost_agents(sweep: Sweep, now=None) -> int:
    """Agents of `sweep` silent for SWEEP_AGENT_TIMEOUT seconds become CRASHED. Their handed-out
    slots whose run ended (finished or failed: an agent run with --count exits without a last
    beat) are DONE; the others LOST (runs crashed, stop requested: a revived agent is told to
    stop them) and each agent or controller point among them is queued again for the next idle
    agent. Returns the number of agents released."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SWEEP_AGENT_TIMEOUT)
    quiet = sweep.agents.filter(state=SweepAgent.State.RUNNING, heartbeat_at__lt=cutoff)
    if not quiet.exists():
        return 0
    with transaction.atomic():
        # Locked, so a beat arriving now waits and then revives the agent; an agent whose row
        # a beat holds right now is alive (skipped, and no lock-order deadlock with it).
        lost = list(quiet.select_for_update(skip_locked=True).values_list("pk", flat=True))
        if not lost:
            return 0
        SweepAgent.objects.filter(pk__in=lost).update(state=SweepAgent.State.CRASHED)
        slots = list(
            SweepRun.objects.select_for_update().filter(agent_id__in=lost, state__in=HANDED)
        )
        ended = set(
            Run.objects.filter(
                pk__in=[slot.run_id for slot in slots if slot.run_id],
                state__in=(Run.State.FINISHED, Run.State.FAILED),
            ).values_list("pk", flat=True)
        )
        SweepRun.objects.filter(pk__in=[s.pk for s in slots if s.run_id in ended]).update(
            state=Slot.DONE, done_at=now
        )
        slots = [slot for slot in slots if slot.run_id not in ended]
        SweepRun.objects.filter(pk__in=[slot.pk for slot in slots]).update(
            state=Slot.LOST, should_stop=True, stop_reason="agent lost", done_at=now
        )
        runs_crash(run_pks=[slot.run_id for slot in slots if slot.run_id])
        SweepRun.objects.bulk_create(
            SweepRun(
                sweep=sweep,
                kind=slot.kind,
                state=Slot.QUEUED,
                params=slot.params,
                point_index=slot.point_index,
                schedule_id=slot.schedule_id,
            )
            for slot in slots
            if slot.kind in (SweepRun.Kind.AGENT, SweepRun.Kind.CONTROLLER)
        )
    return len(lost)


def release_lost_sweep_agents() -> int:
    """The periodic job: release_lost_agents for every sweep that has a quiet agent."""
    cutoff = timezone.now() - timedelta(seconds=settings.SWEEP_AGENT_TIMEOUT)
    sweep_ids = SweepAgent.objects.filter(
        state=SweepAgent.State.RUNNING, heartbeat_at__lt=cutoff
    ).values_list("sweep_id", flat=True)
    return sum(release_lost_agents(sweep) for sweep in Sweep.objects.filter(pk__in=set(sweep_ids)))
