from django.conf import settings
from django.core.management.base import BaseCommand

from runs.services import runs_mark_crashed


class Command(BaseCommand):
    help = (
        "Mark running runs that sent nothing for RUN_HEARTBEAT_TIMEOUT seconds as crashed, in "
        "every project. Pages and the API do it for a project when they read its runs; this "
        "also catches projects nobody is looking at."
    )

    def handle(self, *args, **options):
        count = runs_mark_crashed()
        self.stdout.write(
            f"Marked {count} run{'s' if count != 1 else ''} crashed "
            f"(no heartbeat for {settings.RUN_HEARTBEAT_TIMEOUT} s)."
        )
