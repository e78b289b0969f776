"""Periodic jobs without cron: every `manage.py db_worker` looks for due jobs every
PERIODIC_JOBS_INTERVAL seconds, and `manage.py run_periodic_jobs` does the same once, for
operators who prefer cron. However many processes look at once, a job runs once per period:
each claims it by moving its PeriodicJob row's `next_run_at` forward in one conditional
UPDATE, which only one of them wins (a portable lock: SQLite has no SKIP LOCKED)."""

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.module_loading import import_string

from .models import PeriodicJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    # Import path of a function taking no arguments; imported when the job runs, so this
    # module does not import every app.
    function: str

    def run(self) -> object:
        function: Callable[[], object] = import_string(self.function)
        return function()


JOBS = [
    # Pages mark a project's quiet runs when they read them; this catches the rest.
    Job("mark_crashed_runs", timedelta(minutes=1), "runs.services.runs_mark_crashed"),
    Job(
        "delete_expired_invitations",
        timedelta(hours=1),
        "teams.services.invitations_delete_expired",
    ),
    Job("prune_expired_rows", timedelta(hours=1), "jobs.pruning.prune_expired_rows"),
    # Alert rules on stalled and crashed runs (the others are evaluated at ingestion).
    Job("evaluate_alert_rules", timedelta(minutes=1), "alerts.tasks.evaluate_periodic_rules"),
    # Sweep agents that stopped beating: their points go to other agents (handouts do it too).
    Job(
        "release_lost_sweep_agents",
        timedelta(minutes=1),
        "sweeps.services.release_lost_sweep_agents",
    ),
    # Hyperband for sweeps whose heartbeats did not trigger it (they do every 15 s).
    Job("evaluate_sweep_early_stop", timedelta(minutes=1), "sweeps.early_stop.evaluate_due_sweeps"),
    # Runs deleted more than TRASH_RETENTION_DAYS ago, with everything logged to them.
    Job("purge_trashed_runs", timedelta(hours=1), "runs.trash.runs_purge_expired"),
    # Projects in the trash for longer than TRASH_RETENTION_DAYS are deleted for good.
    Job(
        "purge_trashed_projects",
        timedelta(hours=1),
        "projects.services.projects_purge_expired",
    ),
    Job("requeue_abandoned_tasks", timedelta(minutes=5), "jobs.pruning.requeue_abandoned_tasks"),
]


def claim(job: Job, now: datetime) -> bool:
    """True for the one caller that moves the job's next run forward; False if it is not due
    or another process claimed it first."""
    # get_or_create() reads the row made at the same moment by another process.
    PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    claimed = PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + job.every, last_started_at=now
    )
    return claimed == 1


def run_due_jobs(*, now: datetime | None = None, jobs: list[Job] | None = None) -> list[str]:
    """Run the jobs that are due and that this process claims; returns their names. A job
    that fails is logged and tried again next period; the others still run."""
    now = now or timezone.now()
    ran = []
    for job in JOBS if jobs is None else jobs:
        if not claim(job, now):
            continue
        error = ""
        try:
            result = job.run()
        except Exception:
            logger.exception("Periodic job %s failed.", job.name)
            error = traceback.format_exc()
        else:
            logger.info("Periodic job %s done: %s", job.name, result)
        PeriodicJob.objects.filter(name=job.name).update(
            last_finished_at=timezone.now(), last_error=error
        )
        ran.append(job.name)
    return ran
