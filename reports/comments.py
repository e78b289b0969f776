"""Comments on a report and on its blocks: writing, deleting, and the reads the report page
and a thread need. Only the team reads and writes them (reports/comment_views.py checks).

A comment names the block it is on by its key, which survives publishing; a block that the
latest version no longer holds keeps its comments, and the report's own thread shows them
under "On a removed panel". Every read is one query, whatever the number of comments."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q

from projects.selectors import memberships_entering
from teams.access import may_change_own
from teamsite.lib.emails import absolute_url, send_templated_email

from .markdown import render_markdown
from .models import Report, ReportComment
from .selectors import latest_version

MAX_BODY = 5000


class UnknownBlock(Exception):
    """The comment names a block the report never held (neither its draft nor a version)."""


def clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a comment."})
    if len(body) > MAX_BODY:
        raise ValidationError(
            {"body": f"At most {MAX_BODY:,} characters (this has {len(body):,})."}
        )
    return body


def known_block_keys(report: Report) -> set[str]:
    """Keys of the blocks of the draft and of every published version (two queries)."""
    keys = set(report.blocks.values_list("key", flat=True))
    for blocks in report.versions.values_list("blocks", flat=True):
        keys.update(block["key"] for block in blocks)
    return keys


def current_block_keys(report: Report) -> set[str]:
    """The blocks readers see now: the latest version's, or the draft's before the first."""
    version = latest_version(report)
    if version is not None:
        return {block["key"] for block in version.blocks}
    return set(report.blocks.values_list("key", flat=True))


def require_known_block(report: Report, block_key: str) -> None:
    if block_key and block_key not in known_block_keys(report):
        raise UnknownBlock("This report has no such block.")


@transaction.atomic
def comment_add(*, report: Report, author, body: str, block_key: str = "") -> ReportComment:
    body = clean_body(body)
    require_known_block(report, block_key)
    comment = ReportComment.objects.create(
        report=report, block_key=block_key, author=author, body=body
    )
    _notify(comment)
    return comment


def comment_recipients(comment: ReportComment) -> list[str]:
    """Who hears of a comment, in one query: the report's author and those who wrote earlier
    in the same thread, while they are in the team and have an address; never the writer."""
    report = comment.report
    earlier = ReportComment.objects.filter(
        report=report, block_key=comment.block_key, pk__lt=comment.pk
    ).values("author")
    users = (
        get_user_model()
        .objects.filter(Q(pk=report.created_by_id) | Q(pk__in=earlier))
        .filter(pk__in=memberships_entering(report.project).values("user"))
        .exclude(pk=comment.author_id)
        .exclude(email="")
        .order_by("pk")
    )
    return list(users.values_list("email", flat=True))


def _notify(comment: ReportComment) -> None:
    # One message to each reader (no shared To: line: addresses stay private).
    recipients = comment_recipients(comment)
    if not recipients:
        return
    report = comment.report
    context = {
        "comment": comment,
        "report": report,
        "project": report.project,
        "writer": comment.author.username if comment.author else "Someone",
        "url": absolute_url(f"{report.get_absolute_url()}#comment-{comment.pk}"),
    }
    for address in recipients:
        send_templated_email("report_comment", [address], context)


@transaction.atomic
def comment_delete(*, comment: ReportComment) -> None:
    comment.delete()


def comment_counts(report: Report) -> dict[str, int]:
    """How many comments each block has ("" for the report itself), in one query."""
    rows = (
        ReportComment.objects.filter(report=report)
        .order_by()
        .values_list("block_key")
        .annotate(count=Count("pk"))
    )
    return dict(rows)


@dataclass
class Thread:
    """The comments of one place: a block (`block_key`) or the report itself (""), whose
    thread also holds the comments on blocks the latest version no longer has (`removed`)."""

    block_key: str
    comments: list[ReportComment] = field(default_factory=list)
    removed: list[ReportComment] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.comments) + len(self.removed)

    @property
    def dom_id(self) -> str:
        return f"thread-{self.block_key or 'report'}"


def thread_of(
    report: Report, block_key: str, *, user, current_keys: set[str] | None = None
) -> Thread:
    """One query for the comments, each with its author, its HTML and whether `user` may
    delete it. The report's thread needs `current_keys` (current_block_keys) to tell which
    comments are on removed blocks."""
    comments = ReportComment.objects.filter(report=report).select_related("author")
    if block_key:
        comments = comments.filter(block_key=block_key)
    else:
        comments = comments.filter(Q(block_key="") | ~Q(block_key__in=current_keys or set()))
    thread = Thread(block_key=block_key)
    permissions = report.project.viewer_entity_permissions
    for comment in comments.order_by("created_at", "pk"):
        comment.html = render_markdown(comment.body)
        comment.can_delete = may_change_own(permissions, comment.author_id, user)
        (thread.comments if comment.block_key == block_key else thread.removed).append(comment)
    return thread
