from django.conf import settings
from django.core.management.base import BaseCommand

from runs.ingest import mark_quiet_runs_crashed


class Command(BaseCommand):
    help = (
        "Mark running runs that sent nothing for RUN_HEARTBEAT_TIMEOUT seconds as crashed. "
        "Run it every few minutes (cron, a systemd timer or the task worker's scheduler)."
    )

    def handle(self, *args, **options):
        count = mark_quiet_runs_crashed()
        self.stdout.write(
            f"Marked {count} run{'s' if count != 1 else ''} crashed "
            f"(no heartbeat for {settings.RUN_HEARTBEAT_TIMEOUT} s)."
        )
