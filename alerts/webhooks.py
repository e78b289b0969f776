"""A team's webhooks: adding, changing and deleting them (the address and the signing secret
stored encrypted, the secret shown once), making an alert's webhook deliveries, and the task
that posts one, tried again with backoff while the failure may pass."""

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from jobs.retry import delivery_task
from teamsite.lib import secretbox

from .models import AlertDelivery, AlertEvent, Webhook
from .webhook_http import (
    ALERT_FIRED,
    MAX_ERROR_LENGTH,
    WEBHOOK_TEST,
    DeliveryError,
    alert_body,
    post,
    probe_body,
    url_hint,
)

SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2000
# "Send a test" waits for the receiver in the request: briefly.
TEST_TIMEOUT = (3, 5)


class WebhookError(Exception):
    """A webhook that cannot be stored as asked; the message says why."""


def clean_url(url: str) -> str:
    """The address, checked: http or https, with a host. WebhookError otherwise."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise WebhookError(f"An address has at most {MAX_URL_LENGTH} characters.")
    if any(character.isspace() for character in url):
        raise WebhookError("An address has no spaces.")
    if any(ord(character) < 32 or ord(character) == 127 for character in url):
        raise WebhookError("This is not a valid address.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise WebhookError("This is not a valid address.") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookError("The address starts with https:// (or http://).")
    if not parts.hostname:
        raise WebhookError("The address names no host.")
    # urlsplit reads the scheme case-insensitively: store it as it reads it (HTTP:// -> http://).
    return parts.scheme + url[len(parts.scheme) :]


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _check_name(entity, name: str, *, exclude=None) -> None:
    taken = Webhook.objects.filter(entity=entity, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise WebhookError(f"{entity.name} already has a webhook named {name}.")


def _save(webhook: Webhook) -> None:
    try:
        with transaction.atomic():
            webhook.save()
    except IntegrityError:  # the same name, saved at the same moment
        raise WebhookError(
            f"{webhook.entity.name} already has a webhook named {webhook.name}."
        ) from None


def webhook_create(
    *, entity, name: str, url: str, format: str, actor, client_alerts: bool = False
) -> tuple[Webhook, str]:
    """A new webhook of the team and its signing secret, which is shown once and never again."""
    url = clean_url(url)
    _check_name(entity, name)
    raw_secret = _new_secret()
    webhook = Webhook(
        entity=entity,
        name=name,
        format=format,
        encrypted_url=secretbox.encrypt(url),
        url_hint=url_hint(url),
        encrypted_secret=secretbox.encrypt(raw_secret),
        client_alerts=client_alerts,
        created_by=actor,
    )
    _save(webhook)
    return webhook, raw_secret


def webhook_update(
    *, webhook: Webhook, name: str, url: str, format: str, client_alerts: bool
) -> Webhook:
    """Change a webhook; an empty `url` keeps the address (which pages never show)."""
    _check_name(webhook.entity, name, exclude=webhook)
    if url:
        url = clean_url(url)
        webhook.encrypted_url = secretbox.encrypt(url)
        webhook.url_hint = url_hint(url)
    webhook.name, webhook.format, webhook.client_alerts = name, format, client_alerts
    _save(webhook)
    return webhook


def webhook_rotate_secret(*, webhook: Webhook) -> str:
    """A new signing secret (the old one stops working at once), returned to be shown once."""
    raw_secret = _new_secret()
    webhook.encrypted_secret = secretbox.encrypt(raw_secret)
    webhook.save(update_fields=["encrypted_secret"])
    return raw_secret


def webhook_delete(*, webhook: Webhook) -> None:
    """Delete a webhook: its rules no longer post to it; its deliveries stay in the log."""
    webhook.delete()


def webhook_send_test(*, webhook: Webhook) -> int:
    """Post a signed test message now: the receiver's status, or DeliveryError. Recorded
    nowhere."""
    delivery_id = "test-" + secrets.token_hex(6)
    return post(
        url=secretbox.decrypt(webhook.encrypted_url),
        secret=secretbox.decrypt(webhook.encrypted_secret),
        body=probe_body(webhook, delivery_id=delivery_id),
        event_type=WEBHOOK_TEST,
        delivery_id=delivery_id,
        timeout=TEST_TIMEOUT,
    )


# Delivering alerts


def webhooks_for_event(event: AlertEvent) -> QuerySet[Webhook]:
    """Where an alert is posted: its rule's webhooks, or, for an alert the run raised
    (run.alert()), the team's webhooks that take those. One query."""
    if event.client_alert_id:
        return Webhook.objects.filter(entity__projects=event.project_id, client_alerts=True)
    if event.rule_id is None:
        return Webhook.objects.none()
    return Webhook.objects.filter(rules=event.rule_id)


def webhook_deliveries_create(event: AlertEvent, webhooks) -> list[AlertDelivery]:
    """A delivery of the alert to each webhook, made in the alert's transaction and posted once
    it commits."""
    deliveries = AlertDelivery.objects.bulk_create(
        AlertDelivery(
            event=event,
            channel=AlertDelivery.Channel.WEBHOOK,
            webhook=webhook,
            target=f"{webhook.name} ({webhook.url_hint})",
        )
        for webhook in webhooks
    )
    for delivery in deliveries:
        transaction.on_commit(
            lambda delivery_id=delivery.pk: send_alert_webhook.enqueue(delivery_id=delivery_id)
        )
    return deliveries


@delivery_task(is_transient=lambda error: isinstance(error, DeliveryError) and error.transient)
def send_alert_webhook(*, delivery_id: int) -> str:
    """Post one webhook delivery and record the outcome on its row: sent, or the error (failed
    when it will not be tried again). A delivery gone with its alert, or already sent, is left
    alone. The address and the secret are decrypted here, never passed in the task's
    arguments."""
    delivery = (
        AlertDelivery.objects.select_related(
            "event__run__project__entity", "event__rule", "webhook"
        )
        .filter(pk=delivery_id, channel=AlertDelivery.Channel.WEBHOOK)
        .first()
    )
    if delivery is None or delivery.status == AlertDelivery.Status.SENT:
        return "skipped"
    AlertDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        webhook = delivery.webhook
        if webhook is None:
            raise DeliveryError("The webhook was deleted.", transient=False)
        try:
            url = secretbox.decrypt(webhook.encrypted_url)
            secret = secretbox.decrypt(webhook.encrypted_secret)
        except secretbox.SecretUnreadable as error:
            raise DeliveryError(str(error), transient=False) from None
        post(
            url=url,
            secret=secret,
            body=alert_body(webhook, delivery.event, delivery_id=delivery.pk),
            event_type=ALERT_FIRED,
            delivery_id=str(delivery.pk),
        )
    except DeliveryError as error:
        retried = error.transient and delivery.attempts + 1 < settings.DELIVERY_MAX_ATTEMPTS
        AlertDelivery.objects.filter(pk=delivery.pk).update(
            status=AlertDelivery.Status.PENDING if retried else AlertDelivery.Status.FAILED,
            last_error=str(error)[:MAX_ERROR_LENGTH],
        )
        raise
    except Exception as error:
        # Not left pending for ever; its text may hold the address, so only its kind is kept.
        AlertDelivery.objects.filter(pk=delivery.pk).update(
            status=AlertDelivery.Status.FAILED,
            last_error=f"Could not post ({type(error).__name__}).",
        )
        raise
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status=AlertDelivery.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"
