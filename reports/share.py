"""Sharing a report beyond its team: its visibility (team or public) and view-only links.

A link's raw token exists only in the answer to its creator (teamsite.lib.tokens); the row
keeps its hash. A link opens the latest published version, read "outside" (reports/access.py),
until it expires or is revoked. Every change is in the team's audit trail."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from teams.services import audit
from teamsite.lib.tokens import hash_token, new_token

from .models import Report, ReportShareLink

LINK_DAYS = (1, 7, 30, 90)
DEFAULT_LINK_DAYS = 7
MAX_LABEL = 100
# last_used_at is for people, to the minute: a busy link does not write on every view.
LAST_USED_GRAIN = timedelta(minutes=1)

VISIBILITY_VERB = "report.visibility"
LINK_CREATED_VERB = "report.link_created"
LINK_REVOKED_VERB = "report.link_revoked"


@transaction.atomic
def report_set_visibility(*, report: Report, visibility: str, actor) -> Report:
    """Make the report readable by the team only or by anyone; public is refused while the
    team is private or the project restricted (it would be hidden anyway, and would surprise on
    a later change)."""
    if visibility not in Report.Visibility.values:
        raise ValidationError({"visibility": "Choose who may read the report."})
    entity = report.project.entity
    if visibility == Report.Visibility.PUBLIC and entity.is_private:
        raise ValidationError(
            {
                "visibility": f"The team {entity.name} is private: its reports cannot be public. "
                "Share a view-only link instead, or ask an admin to make the team public."
            }
        )
    if visibility == Report.Visibility.PUBLIC and report.project.is_restricted:
        raise ValidationError(
            {
                "visibility": "The project is restricted to named members: its reports cannot "
                "be public. Share a view-only link instead."
            }
        )
    if visibility != report.visibility:
        old, report.visibility = report.visibility, visibility
        report.save(update_fields=["visibility"])
        audit(
            entity, actor, VISIBILITY_VERB, report.title, report=report.key, old=old, new=visibility
        )
    return report


@transaction.atomic
def share_link_create(
    *, report: Report, actor, label: str = "", days: int = DEFAULT_LINK_DAYS
) -> tuple[ReportShareLink, str]:
    """A new link to the report's published version: the row and the raw token, which is
    never stored and cannot be shown again."""
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise ValidationError({"label": f"A label of at most {MAX_LABEL} characters."})
    if days not in LINK_DAYS:
        raise ValidationError({"days": "Choose how long the link works."})
    if not report.versions.exists():
        raise ValidationError("Publish the report first: a link shows its published version only.")
    raw, token_hash = new_token()
    now = timezone.now()
    link = ReportShareLink.objects.create(
        report=report,
        token_hash=token_hash,
        label=label,
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    audit(
        report.project.entity,
        actor,
        LINK_CREATED_VERB,
        report.title,
        report=report.key,
        link=link.pk,
        label=label,
        expires_at=link.expires_at.isoformat(),
    )
    return link, raw


@transaction.atomic
def share_link_revoke(*, link: ReportShareLink, actor) -> ReportShareLink:
    """Stop the link from working; revoking it again changes nothing."""
    link = (
        ReportShareLink.objects.select_for_update()
        .select_related("report__project__entity")
        .get(pk=link.pk)
    )
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        report = link.report
        audit(
            report.project.entity,
            actor,
            LINK_REVOKED_VERB,
            report.title,
            report=report.key,
            link=link.pk,
            label=link.label,
        )
    return link


def active_link(raw_token: str) -> ReportShareLink | None:
    """The link a raw token names, if it works now (with its report, project and team)."""
    if not raw_token or len(raw_token) > 200:
        return None
    link = (
        ReportShareLink.objects.select_related("report__project__entity")
        # A project in the trash answers nobody, a link's holder neither.
        .filter(token_hash=hash_token(raw_token), report__project__trashed_at__isnull=True)
        .first()
    )
    return link if link is not None and link.is_active() else None


def share_link_used(link: ReportShareLink) -> None:
    now = timezone.now()
    if link.last_used_at is None or now - link.last_used_at >= LAST_USED_GRAIN:
        ReportShareLink.objects.filter(pk=link.pk).update(last_used_at=now)
        link.last_used_at = now


def share_link_state(link: ReportShareLink, now=None) -> str:
    if link.revoked_at is not None:
        return "revoked"
    return "active" if link.is_active(now) else "expired"
