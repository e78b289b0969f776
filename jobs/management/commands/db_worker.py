"""django-tasks-db's worker, which also runs the periodic jobs (jobs/periodic.py): no cron."""

import logging
import os
import threading

from django.conf import settings
from django.db import close_old_connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from jobs.periodic import run_due_jobs

logger = logging.getLogger(__name__)
WORKER_INTERVAL = 0.5


def run_periodic_jobs_forever(interval: float, stop: threading.Event) -> None:
    while not stop.is_set():
        close_old_connections()
        try:
            run_due_jobs()
        except Exception:  # the database may be away for a moment; look again next time
            logger.exception("Looking for due periodic jobs failed.")
        finally:
            close_old_connections()
        stop.wait(interval)


class Command(db_worker.Command):
    help = (
        "Run a database background worker; it also runs the periodic jobs that are due "
        "(once across all workers)."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # An idle worker looks for tasks twice a second (one indexed query), not once: an
        # alert's evaluation and then its delivery each wait for a look.
        parser.set_defaults(interval=WORKER_INTERVAL)
        parser.add_argument(
            "--no-periodic-jobs",
            action="store_false",
            dest="periodic_jobs",
            help="Run tasks only: leave the periodic jobs to other workers or to cron.",
        )

    def handle(self, *args, periodic_jobs, batch, reload, **options):
        if periodic_jobs:
            if batch:
                run_due_jobs()
            elif not reload or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                # Under --reload only the child process that runs tasks looks for jobs.
                threading.Thread(
                    target=run_periodic_jobs_forever,
                    args=(settings.PERIODIC_JOBS_INTERVAL, threading.Event()),
                    name="periodic-jobs",
                    daemon=True,
                ).start()
        super().handle(*args, batch=batch, reload=reload, **options)
