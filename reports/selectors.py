"""Reads of reports for the pages: the project's list and a report's history."""

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from teams.models import Membership

from .models import Report, ReportVersion
from .services import blocks_diff


def project_reports(project, *, member: bool) -> list[Report]:
    """The project's reports with their last publication (`last_published_at`, `versions`)
    and whether the draft changed since (`has_pending_changes`): every one for a member of the
    team; for others, the published ones that are public now (reports/access.py)."""
    reports = (
        Report.objects.filter(project=project)
        .select_related("created_by")
        .annotate(
            last_published_at=Max("versions__published_at"),
            version_count=Count("versions"),
            published_title=Subquery(
                ReportVersion.objects.filter(report=OuterRef("pk"))
                .order_by("-number")
                .values("title")[:1]
            ),
        )
        .order_by("-updated_at", "-pk")
    )
    if not member:
        if project.entity.is_private:
            return []
        reports = reports.filter(version_count__gt=0, visibility=Report.Visibility.PUBLIC)
    reports = list(reports)
    for report in reports:
        report.has_pending_changes = (
            report.last_published_at is None or report.updated_at > report.last_published_at
        )
    return reports


def latest_version(report: Report) -> ReportVersion | None:
    return report.versions.select_related("published_by").order_by("-number").first()


def version_history(report: Report) -> list[ReportVersion]:
    """Every version, newest first, each with `changes`: blocks added, removed and edited
    compared with the version before it."""
    versions = list(report.versions.select_related("published_by").order_by("number"))
    previous = []
    for version in versions:
        version.changes = blocks_diff(previous, version.blocks)
        previous = version.blocks
    titles = [None] + [version.title for version in versions[:-1]]
    for version, title in zip(versions, titles, strict=True):
        version.title_changed = title is not None and title != version.title
    return versions[::-1]


def reports_readable_by(user) -> QuerySet[Report]:
    """The reports `user` may open, in one query (the rules of reports/access.py): every
    report of their own teams' projects, drafts too, and the published public reports of teams
    that are not private, whether or not the user may see their project. Each has
    `last_published_at` and `shown_title` (the published title for readers; the draft's for a
    never-published one)."""
    newest = ReportVersion.objects.filter(report=OuterRef("pk")).order_by("-number")
    readable = Q(
        last_published_at__isnull=False,
        visibility=Report.Visibility.PUBLIC,
        project__entity__is_private=False,
    )
    if user.is_authenticated:
        readable |= Q(project__entity__in=Membership.objects.filter(user=user).values("entity"))
    return (
        Report.objects.annotate(
            last_published_at=Subquery(newest.values("published_at")[:1]),
            shown_title=Coalesce(Subquery(newest.values("title")[:1]), "title"),
        )
        .filter(readable)
        .select_related("project__entity")
    )
