from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from alerts.models import AlertRule
from alerts.services import alert_rule_save, evaluate_after_ingest
from projects.models import Project
from runs.models import Run

PROJECT = ("example-team", "resnet")
Kind = AlertRule.Kind


def demo_rules(project, alice) -> list[AlertRule]:
    common = {"project": project, "created_by": alice, "notify_email": False}
    return [
        AlertRule(
            name="Validation loss too high",
            kind=Kind.THRESHOLD,
            metric="val/loss",
            aggregate=AlertRule.Aggregate.MEAN,
            window=5,
            comparison=AlertRule.Comparison.GT,
            threshold=0.5,
            **common,
        ),
        AlertRule(
            name="Training loss diverged",
            kind=Kind.NONFINITE,
            metric="train/loss",
            window=10,
            **common,
        ),
        AlertRule(
            name="Validation loss regressed",
            kind=Kind.CHANGE,
            metric="val/loss",
            window=3,
            previous_window=3,
            comparison=AlertRule.Comparison.GT,
            threshold=0.1,
            mode=AlertRule.Mode.RELATIVE,
            **common,
        ),
        AlertRule(
            name="Training stalled",
            kind=Kind.STALLED,
            stall_minutes=30,
            stall_signal=AlertRule.StallSignal.HISTORY,
            **common,
        ),
    ]


class Command(BaseCommand):
    help = (
        "Load demo alert rules into the demo project (after load_demo_data) and evaluate them "
        "on its runs' logged history, as ingestion would have: the history then lists what "
        "they found, and alice's bell has it. Safe to rerun."
    )

    @transaction.atomic
    def handle(self, **options):
        project = Project.objects.filter(entity__name=PROJECT[0], name=PROJECT[1]).first()
        alice = get_user_model().objects.filter(username="alice").first()
        if project is None or alice is None:
            raise CommandError("Load the demo data first: manage.py load_demo_data")
        if AlertRule.objects.filter(project=project).exists():
            self.stdout.write("Demo alert rules already loaded.")
            return
        for rule in demo_rules(project, alice):
            alert_rule_save(rule=rule)
        fired = []
        for run in Run.objects.filter(project=project, history_line_count__gt=0):
            fired += evaluate_after_ingest(run, ["val/loss", "train/loss"])
        self.stdout.write(
            f"Alert rules: 4 on {project.path}; {len(fired)} alerts on its logged runs."
        )
