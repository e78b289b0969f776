"""What the signed-in home lists beside the person's projects and teams: the runs they logged
lately and the alerts of their projects, each one query whatever the number of rows.

What is shown is decided now: only runs and alerts of projects the person may still see
(`all_projects_visible_to`, a subquery). Someone removed from a private team no longer sees
its runs, not even their own, nor its alerts."""

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from alerts.models import AlertEvent
from projects.selectors import all_projects_visible_to
from reports.models import Report
from reports.selectors import reports_readable_by
from runs.models import Run
from teams.models import Membership

HOME_RUNS = 10
HOME_ALERTS = 10
HOME_REPORTS = 10


def recent_runs_of(user, limit: int = HOME_RUNS) -> QuerySet[Run]:
    """The runs the user authored, newest activity (last heartbeat, else start) first, with
    their project and its entity (what the list links to)."""
    visible = all_projects_visible_to(user).values("pk")
    return (
        Run.objects.filter(author=user, project__in=visible)
        .select_related("project__entity")
        .annotate(active_at=Coalesce("heartbeat_at", "created_at"))
        .order_by("-active_at", "-id")[:limit]
    )


def recent_alerts_of(user, limit: int = HOME_ALERTS) -> QuerySet[AlertEvent]:
    """The newest alerts of the projects of the user's own entities (personal and teams), and
    of the runs they authored elsewhere, among the projects they may see now."""
    visible = all_projects_visible_to(user).values("pk")
    own_entities = Membership.objects.filter(user=user).values("entity")
    return (
        AlertEvent.objects.filter(project__in=visible, run__trashed_at__isnull=True)
        .filter(Q(project__entity__in=own_entities) | Q(run__author=user))
        .select_related("run", "project__entity")
        .order_by("-fired_at", "-id")[:limit]
    )


def recent_reports_of(user, limit: int = HOME_REPORTS) -> QuerySet[Report]:
    """The reports published lately in the projects of the user's own teams (and personal
    entity): what their colleagues shared with them, newest publication first."""
    own_entities = Membership.objects.filter(user=user).values("entity")
    return (
        reports_readable_by(user)
        .filter(project__entity__in=own_entities, last_published_at__isnull=False)
        .order_by("-last_published_at", "-pk")[:limit]
    )
