"""Sharing services: visibility, view-only links (hashed, expiring, revocable, audited) and
who reads what (reports.selectors.reports_readable_by)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from reports import services, share
from reports.models import Report, ReportBlock, ReportShareLink
from reports.selectors import reports_readable_by
from teams.models import AuditEvent
from teamsite.lib.tokens import hash_token
from tests.factories import ProjectFactory

Kind = ReportBlock.Kind


@pytest.fixture
def published(project, bob):
    report = services.report_create(project=project, title="Week 12", actor=bob)
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "words"})
    services.report_publish(report=report, actor=bob)
    return report


@pytest.fixture
def draft_report(project, bob):
    return services.report_create(project=project, title="Unfinished", actor=bob)


@pytest.fixture
def open_project(public_team, alice):
    return ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")


def events(verb):
    return list(AuditEvent.objects.filter(verb=verb))


# Links


def test_a_link_keeps_only_the_hash_of_its_token_and_is_audited(published, bob):
    before = timezone.now()
    link, raw = share.share_link_create(report=published, actor=bob, label="for Ada", days=30)
    assert len(raw) >= 40  # 256 bits, URL-safe
    link.refresh_from_db()
    assert link.token_hash == hash_token(raw) and raw not in link.token_hash
    stored = ReportShareLink.objects.filter(Q(token_hash__contains=raw) | Q(label__contains=raw))
    assert not stored.exists()
    assert before + timedelta(days=30) <= link.expires_at <= timezone.now() + timedelta(days=30)
    assert link.created_by == bob and link.label == "for Ada" and link.is_active()
    (event,) = events(share.LINK_CREATED_VERB)
    assert event.entity == published.project.entity and event.actor == bob
    assert event.details["report"] == published.key and event.details["label"] == "for Ada"
    assert raw not in str(event.details)
    assert share.active_link(raw) == link


def test_a_report_never_published_gets_no_link(draft_report, bob):
    with pytest.raises(ValidationError, match="Publish the report first"):
        share.share_link_create(report=draft_report, actor=bob)
    assert not ReportShareLink.objects.exists() and not events(share.LINK_CREATED_VERB)


@pytest.mark.parametrize(
    ("fields", "field"), [({"days": 3}, "days"), ({"label": "x" * 101}, "label")]
)
def test_a_link_takes_a_listed_expiry_and_a_short_label(published, bob, fields, field):
    with pytest.raises(ValidationError) as caught:
        share.share_link_create(report=published, actor=bob, **fields)
    assert field in caught.value.message_dict
    assert not ReportShareLink.objects.exists()


def test_the_default_expiry_is_seven_days(published, bob):
    link, _ = share.share_link_create(report=published, actor=bob)
    assert link.expires_at - link.created_at == timedelta(days=7)


def test_an_expired_link_opens_nothing(published, bob):
    link, raw = share.share_link_create(report=published, actor=bob, days=1)
    ReportShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    assert share.active_link(raw) is None
    link.refresh_from_db()
    assert share.share_link_state(link) == "expired"


def test_revoking_stops_a_link_and_is_audited_once(published, bob, alice):
    link, raw = share.share_link_create(report=published, actor=bob)
    share.share_link_revoke(link=link, actor=alice)
    share.share_link_revoke(link=link, actor=alice)  # again: nothing more
    link.refresh_from_db()
    assert link.revoked_at is not None and share.share_link_state(link) == "revoked"
    assert share.active_link(raw) is None
    (event,) = events(share.LINK_REVOKED_VERB)
    assert event.actor == alice and event.details["link"] == link.pk


@pytest.mark.parametrize("token", ["", "nope", "x" * 500])
def test_unknown_tokens_open_nothing(published, bob, token):
    share.share_link_create(report=published, actor=bob)
    assert share.active_link(token) is None


def test_last_used_is_written_at_most_once_a_minute(published, bob, django_assert_num_queries):
    link, _ = share.share_link_create(report=published, actor=bob)
    with django_assert_num_queries(1):
        share.share_link_used(link)
    first = link.last_used_at
    with django_assert_num_queries(0):
        share.share_link_used(link)
    ReportShareLink.objects.filter(pk=link.pk).update(last_used_at=first - share.LAST_USED_GRAIN)
    link.refresh_from_db()
    with django_assert_num_queries(1):
        share.share_link_used(link)
    link.refresh_from_db()
    assert link.last_used_at > first


# Visibility


def test_a_private_teams_report_cannot_be_public(published, alice):
    with pytest.raises(ValidationError) as caught:
        share.report_set_visibility(report=published, visibility="public", actor=alice)
    assert "private" in caught.value.message_dict["visibility"][0]
    published.refresh_from_db()
    assert published.visibility == "team" and not events(share.VISIBILITY_VERB)


def test_changing_visibility_is_audited(open_project, alice):
    report = services.report_create(project=open_project, title="Open", actor=alice)
    share.report_set_visibility(report=report, visibility="public", actor=alice)
    share.report_set_visibility(report=report, visibility="public", actor=alice)  # no change
    report.refresh_from_db()
    assert report.visibility == Report.Visibility.PUBLIC
    (event,) = events(share.VISIBILITY_VERB)
    assert event.details == {"report": report.key, "old": "team", "new": "public"}
    with pytest.raises(ValidationError):
        share.report_set_visibility(report=report, visibility="everyone", actor=alice)


# Who reads what


def _titles(user):
    return sorted(report.shown_title for report in reports_readable_by(user))


def test_readable_reports_follow_membership_visibility_and_team_privacy(
    public_team, open_project, alice, bob, charlie, published, django_assert_num_queries
):
    internal = ProjectFactory(entity=public_team, creator=alice, name="internal")
    shown = services.report_create(project=internal, title="Shown", actor=alice)
    services.report_publish(report=shown, actor=alice)
    share.report_set_visibility(report=shown, visibility="public", actor=alice)
    ours = services.report_create(project=open_project, title="Ours", actor=alice)
    services.report_publish(report=ours, actor=alice)
    unpublished = services.report_create(project=open_project, title="Later", actor=alice)
    share.report_set_visibility(report=unpublished, visibility="public", actor=alice)
    with django_assert_num_queries(1):
        assert _titles(charlie) == ["Shown"]
    assert _titles(bob) == ["Shown", "Week 12"]  # bob is in the private team only
    assert _titles(alice) == ["Later", "Ours", "Shown", "Week 12"]
    assert _titles(AnonymousUser()) == ["Shown"]
    public_team.is_private = True
    public_team.save(update_fields=["is_private"])
    assert _titles(charlie) == [] and _titles(bob) == ["Week 12"]
