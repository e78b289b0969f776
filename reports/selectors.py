"""Reads of reports for the pages: the project's list, what a report shows and its history;
and the project's reports a page at a time for the API."""

from django.db.models import Count, JSONField, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from projects.models import Project
from projects.selectors import enterable_by
from teams.models import Membership

from .models import Report, ReportBlock, ReportVersion
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


def shown_content(report: Report) -> tuple[ReportVersion | None, str, list[dict]]:
    """What a report reads as: its latest version (and that version's title and blocks); for a
    report never published, which only the team reaches (reports.access), the draft's."""
    version = latest_version(report)
    if version is not None:
        return version, version.title, version.blocks
    return None, report.title, [block.snapshot() for block in report.blocks.all()]


def project_reports_page(
    project, *, member: bool, name: str = "", before_pk: int | None = None, limit: int
) -> list[Report]:
    """A page of the project's reports, newest first, in two queries, each with what it reads
    as: `shown_title`, `shown_blocks` and `shown_at` (its latest version's, or its draft's when
    never published: `last_published_at` is None). Every one for a member of the team; for
    others, the published ones that are public now (as project_reports)."""
    newest = ReportVersion.objects.filter(report=OuterRef("pk")).order_by("-number")
    reports = (
        Report.objects.filter(project=project)
        .select_related("created_by")
        .annotate(
            last_published_at=Subquery(newest.values("published_at")[:1]),
            published_title=Subquery(newest.values("title")[:1]),
            published_blocks=Subquery(newest.values("blocks")[:1], output_field=JSONField()),
        )
        .order_by("-pk")
    )
    if not member:
        if project.entity.is_private:
            return []
        reports = reports.filter(
            last_published_at__isnull=False, visibility=Report.Visibility.PUBLIC
        )
    if name:
        reports = reports.filter(key=name)
    if before_pk is not None:
        reports = reports.filter(pk__lt=before_pk)
    reports = list(reports[:limit])
    drafts = [report.pk for report in reports if report.last_published_at is None]
    draft_blocks = {pk: [] for pk in drafts}
    if drafts:
        for block in ReportBlock.objects.filter(report__in=drafts).order_by("position", "pk"):
            draft_blocks[block.report_id].append(block.snapshot())
    for report in reports:
        if report.last_published_at is None:
            report.shown_title, report.shown_blocks = report.title, draft_blocks[report.pk]
            report.shown_at = report.updated_at
        else:
            report.shown_title, report.shown_blocks = (
                report.published_title,
                report.published_blocks,
            )
            report.shown_at = report.last_published_at
    return reports


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
    report of their own teams' projects (restricted ones only where they are named or admins),
    drafts too, and the published public reports of teams
    that are not private, whether or not the user may see their project. Each has
    `last_published_at` and `shown_title` (the published title for readers; the draft's for a
    never-published one)."""
    newest = ReportVersion.objects.filter(report=OuterRef("pk")).order_by("-number")
    readable = Q(
        last_published_at__isnull=False,
        visibility=Report.Visibility.PUBLIC,
        project__entity__is_private=False,
        project__is_restricted=False,
    )
    if user.is_authenticated:
        readable |= Q(
            project__entity__in=Membership.objects.filter(user=user).values("entity"),
            project__in=Project.objects.filter(enterable_by(user)).values("pk"),
        )
    return (
        Report.objects.annotate(
            last_published_at=Subquery(newest.values("published_at")[:1]),
            shown_title=Coalesce(Subquery(newest.values("title")[:1]), "title"),
        )
        .filter(readable, project__trashed_at__isnull=True)  # the join skips Project's manager
        .select_related("project__entity")
    )
