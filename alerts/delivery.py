"""Delivering an alert that fired: who gets it (a delivery row each, made with the alert) and
the task that sends one, retried while the failure may pass, its outcome kept on the row."""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs.retry import delivery_task
from teams.models import Membership
from teamsite.lib.emails import (
    absolute_url,
    deliver_email,
    is_transient_mail_error,
    render_templated_email,
)

from .models import AlertDelivery, AlertEvent

MAX_ERROR_LENGTH = 2000


def alert_recipients(event: AlertEvent) -> list:
    """The people an alert from a rule goes to: the rule's creator, while they are an active
    member of the project's team (who left the team, or was removed, gets nothing). One query."""
    creator_id = event.rule.created_by_id if event.rule else None
    if creator_id is None:
        return []
    membership = (
        Membership.objects.filter(
            entity_id=event.project.entity_id, user_id=creator_id, user__is_active=True
        )
        .exclude(user__email="")
        .select_related("user")
        .first()
    )
    return [membership.user] if membership else []


def deliveries_create(event: AlertEvent) -> list[AlertDelivery]:
    """Make the deliveries of an alert just recorded, in its transaction, and send each once
    that commits (an alert rolled back sends nothing)."""
    deliveries = AlertDelivery.objects.bulk_create(
        AlertDelivery(
            event=event, channel=AlertDelivery.Channel.EMAIL, user=user, target=user.email
        )
        for user in alert_recipients(event)
    )
    for delivery in deliveries:
        transaction.on_commit(
            lambda delivery_id=delivery.pk: send_alert_email.enqueue(delivery_id=delivery_id)
        )
    return deliveries


@delivery_task(is_transient=is_transient_mail_error)
def send_alert_email(*, delivery_id: int) -> str:
    """Send one email delivery and record the outcome on its row: sent, or the error (failed
    when it will not be tried again). A delivery gone with its alert, or already sent, is
    left alone. The task's arguments hold only the row's id: the text is rendered here."""
    delivery = (
        AlertDelivery.objects.select_related("event__run__project__entity")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.status == AlertDelivery.Status.SENT:
        return "skipped"
    AlertDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    event, run = delivery.event, delivery.event.run
    context = {
        "event": event,
        "run": run,
        "project": run.project,
        "run_url": absolute_url(run.get_absolute_url()),
    }
    subject, text, html = render_templated_email("alert_rule", context)
    try:
        deliver_email(to=[delivery.target], subject=subject, text=text, html=html)
    except Exception as error:
        retried = (
            is_transient_mail_error(error)
            and delivery.attempts + 1 < settings.DELIVERY_MAX_ATTEMPTS
        )
        AlertDelivery.objects.filter(pk=delivery.pk).update(
            status=AlertDelivery.Status.PENDING if retried else AlertDelivery.Status.FAILED,
            last_error=f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH],
        )
        raise
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status=AlertDelivery.Status.SENT, sent_at=timezone.now()
    )
    return "sent"
