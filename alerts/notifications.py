"""A person's notifications: the in-app deliveries of alerts (AlertDelivery rows of channel
in_app made for them), shown under the bell and on the notifications page.

What a person is shown is decided now, not when the alert fired: only alerts of projects they
may still see (public ones, and those of the teams they belong to). Someone removed from a team
neither sees nor counts the alerts of its team-only projects; their rows stay, and reappear if
they are let back in. Each read is one query, whatever the number of rows."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from projects.selectors import all_projects_visible_to

from .models import AlertDelivery


def _inbox(user) -> QuerySet[AlertDelivery]:
    """The user's notifications of projects they may see now (a join and a subquery: the
    inbox index serves the user, channel and read filter)."""
    visible = all_projects_visible_to(user).values("pk")
    return AlertDelivery.objects.filter(
        user=user, channel=AlertDelivery.Channel.IN_APP, event__project__in=visible
    )


def notifications_of(user, *, unread_only: bool = False) -> QuerySet[AlertDelivery]:
    """Newest first, with the alert, its run and its project's entity (what the list shows
    and links to) in the same query."""
    notifications = _inbox(user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.select_related("event__run", "event__project__entity").order_by(
        "-created_at", "-id"
    )


def unread_count(user) -> int:
    return _inbox(user).filter(read_at__isnull=True).count()


def get_notification_for_user(user, notification_id: int) -> AlertDelivery:
    """One of the user's notifications that they may see now; 404 for anyone else's, and for
    one whose project they may no longer see."""
    return get_object_or_404(notifications_of(user), pk=notification_id)


def notification_mark_read(*, notification: AlertDelivery) -> None:
    """Read once: opening it again keeps the first time it was read."""
    if notification.read_at is not None:
        return
    notification.read_at = timezone.now()
    AlertDelivery.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=notification.read_at
    )


def notifications_mark_all_read(*, user) -> int:
    """Marks read what the user's list shows unread; returns how many."""
    return _inbox(user).filter(read_at__isnull=True).update(read_at=timezone.now())
