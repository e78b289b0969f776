"""Reads of a project's alert rules and fired alerts, for the alert pages: each a fixed
number of queries whatever the number of rows."""

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery

from artifacts.models import ArtifactCollection
from projects.models import Project
from runs.models import Run

from .models import AlertDelivery, AlertEvent, AlertRule, Webhook

BASELINE_RUN_SUGGESTIONS = 50
# The history's filter for the alerts runs raised with run.alert() (no rule key is this short).
CLIENT_ALERTS = "client"


def project_rules(project: Project) -> QuerySet[AlertRule]:
    """The project's rules by name, with what the list shows of their creator and baseline."""
    return AlertRule.objects.filter(project=project).select_related(
        "created_by", "baseline_run", "baseline_portfolio"
    )


def project_alerts(
    project: Project, *, rule_key: str | None = None, run_id: str | None = None
) -> QuerySet[AlertEvent]:
    """The project's fired alerts, newest first, with their runs (one join) and deliveries (one
    query for the page); `rule_key` keeps one rule's (CLIENT_ALERTS: run.alert()'s), `run_id`
    one run's. The rule's name is stored on the alert, so no join to rules."""
    deliveries = Prefetch("deliveries", queryset=AlertDelivery.objects.order_by("id"))
    events = (
        # Alerts of runs in the trash leave with them (and come back when they are restored).
        AlertEvent.objects.filter(project=project, run__trashed_at__isnull=True)
        .select_related("run")
        .prefetch_related(deliveries)
    )
    if rule_key == CLIENT_ALERTS:
        events = events.filter(client_alert__isnull=False)
    elif rule_key:
        events = events.filter(rule__key=rule_key)
    if run_id:
        events = events.filter(run__run_id=run_id)
    return events.order_by("-fired_at", "-id")


def rule_filter_choices(project: Project) -> list[tuple[str, str]]:
    return list(AlertRule.objects.filter(project=project).values_list("key", "name"))


def baseline_run_suggestions(project: Project) -> QuerySet[Run]:
    """The newest runs of the project, offered (not imposed) as baseline runs."""
    return Run.objects.filter(project=project).order_by("-created_at", "-id")[
        :BASELINE_RUN_SUGGESTIONS
    ]


def registered_models(project: Project) -> QuerySet[ArtifactCollection]:
    """The registered models (portfolios) of the project's team: what a baseline alias names."""
    return ArtifactCollection.objects.filter(
        kind=ArtifactCollection.Kind.PORTFOLIO,
        project__entity_id=project.entity_id,
        project__trashed_at__isnull=True,
    ).order_by("name", "id")


def team_webhooks(entity) -> QuerySet[Webhook]:
    """The team's webhooks by name, each with how many rules post to it and its newest
    delivery's status and time: one query."""
    newest = AlertDelivery.objects.filter(webhook=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Webhook.objects.filter(entity=entity)
        .annotate(
            rule_count=Count("rules", distinct=True),
            last_status=Subquery(newest.values("status")[:1]),
            last_delivered_at=Subquery(newest.values("created_at")[:1]),
        )
        .order_by("name", "id")
    )
