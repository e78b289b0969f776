from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from projects.models import Project
from reports.models import Report
from reports.services import block_add, report_create, report_publish
from runs.models import Run

PROJECT = ("example-team", "resnet")
SUMMARY = """The six latest runs of the learning-rate sweep, with their validation curves.

- Loss keeps falling for every run; the **lowest validation loss** leads the table.
- Runs that *failed* or *crashed* are left in: look at their curves before rerunning them.
"""


class Command(BaseCommand):
    help = (
        "Load a demo report into the demo project (after load_demo_data): text, a chart and "
        "a table of the latest runs that logged curves, a leaderboard, a scatter and a parallel "
        "coordinates panel of the sweep, published by alice. Safe to rerun."
    )

    @transaction.atomic
    def handle(self, **options):
        project = Project.objects.filter(entity__name=PROJECT[0], name=PROJECT[1]).first()
        alice = get_user_model().objects.filter(username="alice").first()
        if project is None or alice is None:
            raise CommandError("Load the demo data first: manage.py load_demo_data")
        if Report.objects.filter(project=project).exists():
            self.stdout.write("Demo report already loaded.")
            return
        logged = Run.objects.filter(project=project, history_line_count__gt=0)
        ids = list(logged.order_by("-created_at").values_list("run_id", flat=True)[:6])
        if not ids:
            raise CommandError("The demo project has no runs with curves.")
        runs = {"ids": ids}
        report = report_create(project=project, title="Learning-rate sweep: week 1", actor=alice)
        block_add(report=report, kind="text", config={"markdown": SUMMARY})
        block_add(
            report=report,
            kind="line_chart",
            config={"metrics": ["val/loss", "train/loss"], "runs": runs},
        )
        block_add(
            report=report,
            kind="runs_table",
            config={
                "runs": runs,
                "columns": ["config.lr", "config.batch_size", "summary.val/loss"],
                "sort": "summary.val/loss",
                "limit": 10,
            },
        )
        # Every run that reached a validation loss, not only the six above.
        swept = {"query": "summary.val/loss exists"}
        block_add(
            report=report,
            kind="leaderboard",
            config={
                "runs": swept,
                "metric": "summary.val/loss",
                "best": "min",
                "limit": 5,
                "columns": ["config.lr", "config.batch_size"],
            },
        )
        block_add(
            report=report,
            kind="scatter",
            config={
                "runs": swept,
                "x": "config.lr",
                "y": "summary.val/loss",
                "color": "config.batch_size",
            },
        )
        block_add(
            report=report,
            kind="parallel_coordinates",
            config={
                "runs": swept,
                "columns": ["config.lr", "config.batch_size", "summary.val/loss"],
            },
        )
        report_publish(report=report, actor=alice, note="First results")
        self.stdout.write(f"Reports: one published on {project.path}.")
