"""Hyperband early termination: which running runs of a sweep to stop, from the history of
the sweep's metric, by the engine's `stop_runs`. A heartbeat claims an evaluation at most
every CHECK_EVERY and hands it to a task (so no agent waits on it); a periodic job catches
sweeps whose agents are all busy in silence. The agents learn of a stop at their next beat,
the runs through `stopped` (RunStoppedStatus)."""

import logging
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from runs.models import MetricKey, Point

from . import engine
from .models import Sweep, SweepRun

logger = logging.getLogger(__name__)

CHECK_EVERY = timedelta(seconds=15)
# The newest slots evaluated: hyperband's bands need the runs that reached them, not all.
RUNS_WINDOW = 2000


def claim(sweep: Sweep, now=None) -> bool:
    """True for the one caller that moves the sweep's check time forward (one conditional
    UPDATE); False when it is not due or another process claimed it."""
    now = now or timezone.now()
    due = Q(early_stop_checked_at__isnull=True) | Q(early_stop_checked_at__lt=now - CHECK_EVERY)
    claimed = (
        Sweep.objects.filter(due, pk=sweep.pk, early_terminate=True)
        .exclude(metric_name="")
        .update(early_stop_checked_at=now)
    )
    return claimed == 1


def is_due(sweep: Sweep, now) -> bool:
    """Whether a claim is worth trying (read from the row in hand, no query)."""
    checked = sweep.early_stop_checked_at
    return sweep.early_terminate and (checked is None or checked < now - CHECK_EVERY)


def evaluate_soon(sweep: Sweep, now) -> None:
    """Claim the sweep's evaluation if due and run it in a task once this transaction commits."""
    if is_due(sweep, now) and claim(sweep, now):
        from .tasks import evaluate_early_stop_task

        transaction.on_commit(lambda: evaluate_early_stop_task.enqueue(sweep.pk))


def evaluate_early_stop(sweep_pk: int) -> int:
    """Flag the running slots hyperband stops (should_stop, stop_reason "hyperband", the
    engine's explanation in stop_info); returns how many were flagged."""
    sweep = Sweep.objects.filter(pk=sweep_pk).first()
    if sweep is None or not sweep.early_terminate or not sweep.metric_name:
        return 0
    slots = list(
        sweep.slots.filter(
            state__in=(SweepRun.State.RUNNING, SweepRun.State.DONE),
            run__isnull=False,
            run__trashed_at__isnull=True,  # deleted runs set no band's threshold
        )
        .select_related("run")
        .only("run_name", "state", "should_stop", "run__run_id", "run__state")
        .order_by("-id")[:RUNS_WINDOW]
    )
    key = MetricKey.objects.filter(stream=MetricKey.Stream.HISTORY, name=sweep.metric_name).first()
    if key is None or not any(slot.state == SweepRun.State.RUNNING for slot in slots):
        return 0
    history = defaultdict(list)
    points = (
        Point.objects.filter(run_id__in=[slot.run_id for slot in slots], key=key)
        .exclude(value=None)
        .order_by("run_id", "step")
        .values_list("run_id", "value")
    )
    for run_pk, value in points:
        history[run_pk].append({sweep.metric_name: value})
    runs = [
        {
            "name": slot.run_name or slot.run.run_id,
            # A slot the agent still reports runs, whatever the run last said.
            "state": "running" if slot.state == SweepRun.State.RUNNING else slot.run.state,
            "history": history[slot.run_id],
        }
        for slot in slots
    ]
    try:
        stopped = dict(engine.to_stop(sweep.config, runs))
    except Exception:
        logger.exception("Sweep %s: hyperband evaluation failed.", sweep.name)
        return 0
    flagged = 0
    for slot in slots:
        name = slot.run_name or slot.run.run_id
        if name in stopped and slot.state == SweepRun.State.RUNNING and not slot.should_stop:
            flagged += SweepRun.objects.filter(pk=slot.pk, should_stop=False).update(
                should_stop=True, stop_reason="hyperband", stop_info=stopped[name]
            )
    return flagged


def evaluate_due_sweeps() -> int:
    """The periodic job: evaluate every running sweep with early termination that is due."""
    now = timezone.now()
    flagged = 0
    for sweep in Sweep.objects.filter(state=Sweep.State.RUNNING, early_terminate=True):
        if claim(sweep, now):
            flagged += evaluate_early_stop(sweep.pk)
    return flagged
