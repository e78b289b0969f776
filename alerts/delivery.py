"""Delivering an alert that fired: who gets it (a delivery row each, made with the alert) and
the task that sends one, retried while the failure may pass, its outcome kept on the row."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from jobs.retry import delivery_task
from projects.selectors import memberships_entering
from teamsite.lib.emails import (
    absolute_url,
    deliver_email,
    is_transient_mail_error,
    render_templated_email,
)

from .models import AlertDelivery, AlertEvent
from .webhooks import webhook_deliveries_create, webhooks_for_event

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Recipient:
    user: object
    email: bool
    in_app: bool


def alert_recipients(event: AlertEvent) -> list[Recipient]:
    """The people an alert reaches, and how, among the active human members of the project's
    team (who left or was removed gets nothing). From a rule: its creator, by the channels the
    rule asks for. From run.alert(): the run's author (email and the bell), and the members
    who asked for their team's alert emails. One query."""
    project = event.project
    if event.rule_id:
        rule = event.rule
        wanted = {rule.created_by_id: (rule.notify_email, rule.notify_in_app)}
        subscribers = Q(pk__in=[])
    else:
        wanted = {event.run.author_id: (True, True)}
        subscribers = Q(alert_emails=True)
    wanted.pop(None, None)
    # Of a restricted project, only its admins and named members hear.
    memberships = (
        memberships_entering(project)
        .filter(
            Q(user_id__in=wanted) | subscribers,
            user__is_active=True,
            user__is_service=False,
        )
        .select_related("user")
    )
    recipients = []
    for membership in memberships:
        email, in_app = wanted.get(membership.user_id, (True, False))
        email = email and bool(membership.user.email)
        if email or in_app:
            recipients.append(Recipient(membership.user, email=email, in_app=in_app))
    return sorted(recipients, key=lambda recipient: recipient.user.pk)


def deliveries_create(event: AlertEvent) -> list[AlertDelivery]:
    """Make the deliveries of an alert just recorded, in its transaction, and send each once
    that commits (an alert rolled back sends nothing): emails and notifications to people,
    posts to webhooks. An in-app notification is delivered by being made."""
    Channel, Status = AlertDelivery.Channel, AlertDelivery.Status
    rows = []
    for recipient in alert_recipients(event):
        if recipient.email:
            rows.append(
                AlertDelivery(
                    event=event,
                    channel=Channel.EMAIL,
                    user=recipient.user,
                    target=recipient.user.email,
                )
            )
        if recipient.in_app:
            rows.append(
                AlertDelivery(
                    event=event,
                    channel=Channel.IN_APP,
                    user=recipient.user,
                    status=Status.SENT,
                    sent_at=event.fired_at,
                )
            )
    deliveries = AlertDelivery.objects.bulk_create(rows)
    for delivery in deliveries:
        if delivery.channel == Channel.EMAIL:
            transaction.on_commit(
                lambda delivery_id=delivery.pk: send_alert_email.enqueue(delivery_id=delivery_id)
            )
    return deliveries + webhook_deliveries_create(event, webhooks_for_event(event))


@delivery_task(is_transient=is_transient_mail_error)
def send_alert_email(*, delivery_id: int) -> str:
    """Send one email delivery and record the outcome on its row: sent, or the error (failed
    when it will not be tried again). A delivery gone with its alert, or already sent, is
    left alone. The task's arguments hold only the row's id: the text is rendered here."""
    delivery = (
        AlertDelivery.objects.select_related("event__run__project__entity", "event__client_alert")
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
    subject, text, html = render_templated_email("alert", context)
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
