"""Evaluating rules in a worker, after what they read has been stored."""

from datetime import timedelta

from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

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
# arrive meanwhile join it: it reads the newest values, stored by then. Short enough that,
# with the worker's half-second polling, an alert's webhook leaves within about a second of its
# chunk (bench/alert_latency.py).
EVALUATION_DELAY = timedelta(milliseconds=500)
# A chunk this close to its evaluation's start gets one of its own: it might commit too late.
EVALUATION_MARGIN = timedelta(milliseconds=250)


def evaluate_chunk_soon(run: Run, keys) -> None:
    """Evaluate `run` for the history `keys` a chunk touched (none: its end) in a worker,
    soon after the current transaction commits; or, with a backend that cannot wait, once
    it commits.

    With tasks in the database, the evaluation is enqueued in the chunk's own transaction:
    both commit or neither, and on SQLite no second write waits for the lock. An evaluation
    of the run that is waiting and not about to start, and that will read these keys, takes
    this chunk too: the waiting task row itself is the note (no shared cache to keep)."""
    keys = sorted(set(keys))
    if not isinstance(evaluate_chunk.get_backend(), DatabaseBackend):
        transaction.on_commit(lambda: evaluate_chunk.enqueue(run.pk, keys))
        return
    now = timezone.now()
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY,
        task_path=evaluate_chunk.module_path,
        run_after__gt=now + EVALUATION_MARGIN,
        args_kwargs__args__0=run.pk,
    ).values_list("args_kwargs", flat=True)
    if any(set(keys) <= set(pending["args"][1]) for pending in waiting):
        return
    evaluate_chunk.using(run_after=now + EVALUATION_DELAY).enqueue(run.pk, keys)


def evaluate_run_end(run: Run) -> None:
    """A run ended outside file_stream (the client's updateRunState): evaluate its failure
    rules once that commits, if the project has any (one query)."""
    rules = AlertRule.objects.filter(
        project_id=run.project_id, muted=False, kind=AlertRule.Kind.FAILED
    )
    if rules.exists():
        evaluate_chunk_soon(run, [])


def evaluate_periodic_rules() -> int:
    """The periodic job: stalled and crashed runs; returns how many alerts fired."""
    return len(evaluate_periodic())
