"""Evaluating rules in a worker, after what they read has been stored."""

from django.db import transaction
from django.tasks import task

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


def evaluate_chunk_on_commit(run: Run, keys) -> None:
    """Evaluate `run` in a worker once the current transaction commits."""
    keys = sorted(keys)
    transaction.on_commit(lambda: evaluate_chunk.enqueue(run.pk, keys))


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
