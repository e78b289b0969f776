"""Evaluating rules in a worker, after what they read has been stored."""

from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from runs.models import Run

from .models import AlertRule
from .services import evaluate_after_ingest, evaluate_periodic


@task
def evaluate_chunk(run_id: int, keys: list[str]) -> int:
    """Evaluate the rules watching `keys` (history keys a stored chunk touched; none: only the
    run's end) on the run as it is now; returns how many fired. A run deleted meanwhile is
    skipped."""
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        return 0
    return len(evaluate_after_ingest(run, keys))


# A run streams several chunks a second. Its evaluation waits this long, and the chunks that
# arrive meanwhile (at any web process: the note is in the shared cache) join it: it reads the
# newest values, stored by then. On SQLite, one task per chunk halved ingestion (the worker's
# writes take the one write lock). Short enough that, with the worker's half-second polling,
# an alert's webhook leaves within about a second of its chunk (bench/alert_latency.py).
EVALUATION_DELAY = timedelta(milliseconds=500)
# A chunk this close to its evaluation's start gets one of its own: it might commit too late.
EVALUATION_MARGIN = timedelta(milliseconds=250)


def evaluate_chunk_on_commit(run: Run, keys) -> None:
    """Evaluate `run` in a worker once the current transaction commits, soon after (or, with
    a backend that cannot defer, at once)."""
    keys = frozenset(keys)
    transaction.on_commit(lambda: _enqueue_evaluation(run.pk, keys))


def _pending_key(run_id: int) -> str:
    return f"alerts:pending-evaluation:{run_id}"


def _enqueue_evaluation(run_id: int, keys: frozenset) -> None:
    if not evaluate_chunk.get_backend().supports_defer:
        evaluate_chunk.enqueue(run_id, sorted(keys))
        return
    now = timezone.now()
    # (when the waiting evaluation starts, as a timestamp; the keys it was given). Two
    # processes racing here both enqueue: an evaluation too many, never one too few.
    pending = cache.get(_pending_key(run_id))
    if pending is not None:
        starts, pending_keys = pending
        if now.timestamp() < starts - EVALUATION_MARGIN.total_seconds() and keys <= set(
            pending_keys
        ):
            return  # an evaluation that has not started will read this chunk too
    starts = now + EVALUATION_DELAY
    evaluate_chunk.using(run_after=starts).enqueue(run_id, sorted(keys))
    lifetime = EVALUATION_DELAY.total_seconds() + 1
    cache.set(_pending_key(run_id), (starts.timestamp(), sorted(keys)), lifetime)


def evaluate_run_end(run: Run) -> None:
    """A run ended outside file_stream (the client's updateRunState): evaluate its failure
    rules once that commits, if the project has any (one query)."""
    rules = AlertRule.objects.filter(
        project_id=run.project_id, muted=False, kind=AlertRule.Kind.FAILED
    )
    if rules.exists():
        evaluate_chunk_on_commit(run, [])


def evaluate_periodic_rules() -> int:
    """The periodic job: stalled and crashed runs; returns how many alerts fired."""
    return len(evaluate_periodic())
