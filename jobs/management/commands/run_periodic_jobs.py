from django.core.management.base import BaseCommand
from django.utils import timezone

from jobs.models import PeriodicJob
from jobs.periodic import JOBS, run_due_jobs


class Command(BaseCommand):
    help = (
        "Run the periodic jobs that are due (marking silent runs crashed, deleting expired "
        "invitations, pruning expired rows), once across all processes. Every db_worker does "
        "this on its own; this command is for cron, or to run them now with --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Make every job due first, then run them."
        )

    def handle(self, *args, force, **options):
        if force:
            PeriodicJob.objects.filter(name__in=[job.name for job in JOBS]).update(
                next_run_at=timezone.now()
            )
        ran = run_due_jobs()
        self.stdout.write(f"Ran {len(ran)} periodic job(s): {', '.join(ran) or 'none due'}.")
