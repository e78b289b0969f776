"""Reads of reports for the pages: the project's list, what a report shows and its history;
and the project's reports a page at a time for the API."""

from django.db.models import Count, JSONField, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from projects.selectors import all_projects_visible_to
from teams.models import Membership

from .models import Report, ReportBlock, ReportVersion
from .services import blocks_diff


def project_reports(project, *, with_drafts: bool) -> list[Report]:
    """The project's reports with their last publication (`last_published_at`, `versions`)
    and whether the draft changed since (`has_pending_changes`); without drafts, only the
    published ones."""
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
    if not with_drafts:
        reports = reports.filter(version_count__gt=0)
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
    project, *, with_drafts: bool, name: str = "", before_pk: int | None = None, limit: int
) -> list[Report]:
    """A page of the project's reports, newest first, in two queries, each with what it reads
    as: `shown_title`, `shown_blocks` and `shown_at` (its latest version's, or its draft's when
    never published: `last_published_at` is None). Without drafts, only the published ones."""
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
    if not with_drafts:
        reports = reports.filter(last_published_at__isnull=False)
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
    """The reports `user` may open, in one query: of the projects they may see, the published
    ones, and, in their own teams' projects, drafts too. Each has `last_published_at` and
    `shown_title` (the published title for readers; the draft's for a never-published one)."""
    visible = all_projects_visible_to(user).values("pk")
    newest = ReportVersion.objects.filter(report=OuterRef("pk")).order_by("-number")
    readable = Q(last_published_at__isnull=False)
    if user.is_authenticated:
        readable |= Q(project__entity__in=Membership.objects.filter(user=user).values("entity"))
    return (
        Report.objects.filter(project__in=visible)
        .annotate(
            last_published_at=Subquery(newest.values("published_at")[:1]),
            shown_title=Coalesce(Subquery(newest.values("title")[:1]), "title"),
        )
        .filter(readable)
        .select_related("project__entity")
    )
