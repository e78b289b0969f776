"""Webhook deliveries against a real receiver on 127.0.0.1: the signature verifies with the
secret shown once, the bodies (JSON and Slack-compatible), retries with the outcome in the
delivery log, the blocked networks, and what the database keeps of addresses and secrets."""

import hashlib
import hmac
import json
import socket
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from alerts import webhook_http
from alerts.models import AlertDelivery, AlertEvent, AlertRule, Webhook
from alerts.webhooks import (
    WebhookError,
    clean_url,
    send_alert_webhook,
    webhook_create,
    webhook_delete,
    webhook_deliveries_create,
    webhook_rotate_secret,
    webhooks_for_event,
)
from runs.models import Alert as ClientAlert
from teamsite.lib import secretbox
from tests.factories import ProjectFactory, TeamFactory

from .factories import AlertRuleFactory
from .receiver import receiver_fixture  # noqa: F401 (the local receiver)

HOOK_PATH = "/hooks/T000/B000/token-7f3a"


def verify(secret: str, header: str, body: bytes, tolerance=300) -> bool:
    """What a receiver does (the README's recipe)."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
    return (
        hmac.compare_digest(expected.hexdigest(), fields["v1"])
        and abs(time.time() - int(fields["t"])) <= tolerance
    )


@pytest.fixture
def rule(project, alice):
    return AlertRuleFactory(
        project=project,
        kind=AlertRule.Kind.THRESHOLD,
        name="loss too high",
        threshold=1.0,
        created_by=alice,
    )


@pytest.fixture
def event(rule, run):
    return AlertEvent.objects.create(
        project=run.project,
        rule=rule,
        rule_name=rule.name,
        run=run,
        value=2.5,
        message="loss is 2.5, above 1",
    )


@pytest.fixture
def make_webhook(team, alice):
    def make(url, name="ops", format=Webhook.Format.GENERIC, client_alerts=False, entity=None):
        return webhook_create(
            entity=entity or team,
            name=name,
            url=url,
            format=format,
            client_alerts=client_alerts,
            actor=alice,
        )

    return make


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """deliver(event, [webhooks]): make the deliveries, send them as the commit does; returns
    them read back."""

    def deliver(event, webhooks):
        with django_capture_on_commit_callbacks(execute=True):
            deliveries = webhook_deliveries_create(event, webhooks)
        return [AlertDelivery.objects.get(pk=delivery.pk) for delivery in deliveries]

    return deliver


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_alert_is_posted_as_signed_json_that_verifies_with_the_shown_secret(
    receiver, make_webhook, event, deliver, settings
):
    settings.SITE_URL = "https://teamsite.example"
    webhook, raw_secret = make_webhook(receiver.url + HOOK_PATH)

    [delivery] = deliver(event, [webhook])

    assert delivery.status == AlertDelivery.Status.SENT and delivery.attempts == 1
    assert delivery.sent_at is not None and delivery.last_error == ""
    assert delivery.target == f"ops ({receiver.url})"
    [request] = receiver.requests
    assert request.path == HOOK_PATH
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Teamsite-Webhooks"
    assert headers["Teamsite-Event"] == "alert.fired"
    assert headers["Teamsite-Delivery"] == str(delivery.pk)
    assert raw_secret.startswith("whsec_")
    assert verify(raw_secret, headers["Teamsite-Signature"], request.body)
    assert not verify(raw_secret, headers["Teamsite-Signature"], request.body + b" ")
    assert not verify("whsec_other", headers["Teamsite-Signature"], request.body)
    run, project = event.run, event.project
    assert json.loads(request.body) == {
        "type": "alert.fired",
        "id": delivery.pk,
        "alert": {
            "id": event.pk,
            "message": "loss is 2.5, above 1",
            "detail": "",
            "level": "WARN",
            "value": 2.5,
            "fired_at": event.fired_at.isoformat(),
        },
        "rule": {"name": "loss too high", "kind": "threshold", "key": event.rule.key},
        "source": "rule",
        "run": {
            "id": run.run_id,
            "name": run.display_name,
            "url": f"https://teamsite.example/{project.entity.name}/{project.name}/runs/{run.run_id}/",
            "state": "running",
        },
        "project": {
            "entity": project.entity.name,
            "name": project.name,
            "url": f"https://teamsite.example/{project.entity.name}/{project.name}/",
        },
    }


def test_a_slack_webhook_gets_a_message_linking_the_run(receiver, make_webhook, event, deliver):
    webhook, raw_secret = make_webhook(receiver.url + HOOK_PATH, format=Webhook.Format.SLACK)
    event.message = "loss <b> & co"
    event.save()

    [delivery] = deliver(event, [webhook])

    assert delivery.status == AlertDelivery.Status.SENT
    [request] = receiver.requests
    body = json.loads(request.body)
    run_url = "http://testserver" + event.run.get_absolute_url()
    assert f"<{run_url}|{event.run.display_name}>" in body["text"]
    assert "loss &lt;b&gt; &amp; co" in body["text"]
    assert body["blocks"][0] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": body["text"]},
    }
    assert verify(raw_secret, request.headers["Teamsite-Signature"], request.body)


def test_a_value_json_cannot_hold_travels_as_a_string(receiver, make_webhook, event, deliver):
    webhook, _ = make_webhook(receiver.url)
    event.value = float("-inf")
    event.save()
    deliver(event, [webhook])
    assert json.loads(receiver.requests[0].body)["alert"]["value"] == "-Infinity"


def test_a_server_error_is_tried_again_and_then_sent(
    receiver, make_webhook, event, deliver, settings
):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    receiver.script = [500, 429]
    webhook, raw_secret = make_webhook(receiver.url + HOOK_PATH)

    [delivery] = deliver(event, [webhook])

    assert delivery.status == AlertDelivery.Status.SENT and delivery.attempts == 3
    assert len(receiver.requests) == 3
    assert {r.headers["Teamsite-Delivery"] for r in receiver.requests} == {str(delivery.pk)}
    assert all(
        verify(raw_secret, r.headers["Teamsite-Signature"], r.body) for r in receiver.requests
    )


def test_server_errors_until_the_last_attempt_fail_the_delivery(
    receiver, make_webhook, event, deliver, settings
):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    receiver.script = [503, 500]
    webhook, _ = make_webhook(receiver.url + HOOK_PATH)

    [delivery] = deliver(event, [webhook])

    assert delivery.status == AlertDelivery.Status.FAILED and delivery.attempts == 2
    assert len(receiver.requests) == 2
    assert delivery.last_error.startswith(f"{receiver.url} answered 500")
    assert HOOK_PATH not in delivery.last_error


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (400, "answered 400 Bad Request: ok."),
        (410, "answered 410 Gone"),
        ((302, {"Location": "/elsewhere"}), "redirects are not followed"),
    ],
)
def test_a_refusal_or_a_redirect_fails_at_once(
    receiver, make_webhook, event, deliver, settings, answer, expected
):
    settings.DELIVERY_MAX_ATTEMPTS = 4
    receiver.script = [answer]
    webhook, _ = make_webhook(receiver.url + HOOK_PATH)

    [delivery] = deliver(event, [webhook])

    assert delivery.status == AlertDelivery.Status.FAILED and delivery.attempts == 1
    assert expected in delivery.last_error
    assert [r.path for r in receiver.requests] == [HOOK_PATH]


def test_a_receiver_that_does_not_answer_in_time_is_tried_again_then_failed(
    receiver, make_webhook, event, deliver, settings, monkeypatch
):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    monkeypatch.setattr(webhook_http, "TIMEOUT", (1, 0.2))
    receiver.delay = 0.6
    webhook, _ = make_webhook(receiver.url + HOOK_PATH)

    [delivery] = deliver(event, [webhook])

    assert delivery.status == AlertDelivery.Status.FAILED and delivery.attempts == 2
    assert delivery.last_error == f"{receiver.url} did not answer in time."
    assert len(receiver.requests) == 2


def test_a_refused_connection_is_tried_again_then_failed_naming_only_the_host(
    make_webhook, event, deliver, settings
):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    port = closed_port()
    webhook, raw_secret = make_webhook(f"http://127.0.0.1:{port}{HOOK_PATH}?token=q7")

    [delivery] = deliver(event, [webhook])

    assert delivery.status == AlertDelivery.Status.FAILED and delivery.attempts == 3
    assert (
        delivery.last_error == f"Could not connect to http://127.0.0.1:{port}: Connection refused."
    )
    for private in ("hooks", "token", raw_secret):
        assert private not in delivery.last_error


def test_a_host_in_a_blocked_network_is_refused_without_a_post(
    receiver, make_webhook, event, deliver, settings
):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    settings.WEBHOOK_BLOCKED_NETWORKS = ["127.0.0.0/8"]
    webhook, _ = make_webhook(receiver.url.replace("127.0.0.1", "localhost") + HOOK_PATH)

    [delivery] = deliver(event, [webhook])

    assert delivery.status == AlertDelivery.Status.FAILED and delivery.attempts == 1
    assert "blocked network" in delivery.last_error and HOOK_PATH not in delivery.last_error
    assert receiver.requests == []


def test_the_address_reached_is_checked_too(
    receiver, make_webhook, event, deliver, settings, monkeypatch
):
    # A name that resolved elsewhere when checked, and to a blocked address when connecting.
    monkeypatch.setattr(webhook_http, "_resolves_to_blocked", lambda host, port: False)
    settings.WEBHOOK_BLOCKED_NETWORKS = ["127.0.0.0/8"]
    webhook, _ = make_webhook(receiver.url + HOOK_PATH)

    [delivery] = deliver(event, [webhook])

    assert delivery.status == AlertDelivery.Status.FAILED and delivery.attempts == 1
    assert "blocked network" in delivery.last_error
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://0.0.0.0:9/", "http://[fe80::1]/"]
)
def test_cloud_metadata_and_unspecified_addresses_are_blocked_by_default(
    make_webhook, event, deliver, url
):
    webhook, _ = make_webhook(url)
    [delivery] = deliver(event, [webhook])
    assert delivery.status == AlertDelivery.Status.FAILED and delivery.attempts == 1
    assert "blocked network" in delivery.last_error


def test_loopback_is_allowed_by_default(receiver, make_webhook, event, deliver):
    webhook, _ = make_webhook(receiver.url.replace("127.0.0.1", "localhost"))
    [delivery] = deliver(event, [webhook])
    assert delivery.status == AlertDelivery.Status.SENT and len(receiver.requests) == 1


def test_a_webhook_deleted_before_sending_fails_its_delivery(
    receiver, make_webhook, event, django_capture_on_commit_callbacks
):
    webhook, _ = make_webhook(receiver.url)
    with django_capture_on_commit_callbacks() as callbacks:
        [delivery] = webhook_deliveries_create(event, [webhook])
    webhook_delete(webhook=webhook)
    for callback in callbacks:
        callback()

    delivery.refresh_from_db()
    assert delivery.status == AlertDelivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == "The webhook was deleted." and delivery.webhook is None
    assert delivery.target == f"ops ({receiver.url})"
    assert receiver.requests == []


def test_a_sent_delivery_is_not_posted_again(receiver, make_webhook, event, deliver):
    webhook, _ = make_webhook(receiver.url)
    [delivery] = deliver(event, [webhook])
    send_alert_webhook.enqueue(delivery_id=delivery.pk)
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_new_secret_replaces_the_old_one(receiver, make_webhook, event, deliver):
    webhook, old_secret = make_webhook(receiver.url)
    new_secret = webhook_rotate_secret(webhook=webhook)
    deliver(event, [webhook])
    signature = receiver.requests[0].headers["Teamsite-Signature"]
    assert new_secret != old_secret
    assert verify(new_secret, signature, receiver.requests[0].body)
    assert not verify(old_secret, signature, receiver.requests[0].body)


def test_the_address_and_secret_are_stored_encrypted(make_webhook, settings):
    url = "https://hooks.example.com:8443/services/T000/B000/token-7f3a"
    webhook, raw_secret = make_webhook(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM alerts_webhook WHERE id = %s", [webhook.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "token-7f3a" not in row and "services" not in row and raw_secret not in row
    assert raw_secret[len("whsec_") :] not in row
    assert webhook.url_hint == "https://hooks.example.com:8443"
    stored = Webhook.objects.get(pk=webhook.pk)
    assert secretbox.decrypt(stored.encrypted_url) == url
    assert secretbox.decrypt(stored.encrypted_secret) == raw_secret


def test_webhooks_of_an_event_are_its_rules_or_the_teams_for_client_alerts(
    make_webhook, event, rule, run, alice, django_assert_num_queries
):
    for_rule, _ = make_webhook("https://a.example/", name="for-rule")
    for_client, _ = make_webhook("https://b.example/", name="runs", client_alerts=True)
    make_webhook("https://c.example/", name="idle")
    other_team = TeamFactory(name="other-team", creator=alice)
    ProjectFactory(entity=other_team, creator=alice, name="resnet")
    make_webhook("https://d.example/", name="elsewhere", client_alerts=True, entity=other_team)
    rule.webhooks.add(for_rule)
    client_event = AlertEvent.objects.create(
        project=run.project,
        run=run,
        client_alert=ClientAlert.objects.create(run=run, title="diverged"),
        message="diverged",
    )

    with django_assert_num_queries(1):
        assert list(webhooks_for_event(event)) == [for_rule]
    with django_assert_num_queries(1):
        assert list(webhooks_for_event(client_event)) == [for_client]


def test_a_client_alert_says_so_and_has_no_rule(receiver, make_webhook, run, deliver):
    make_webhook(receiver.url, client_alerts=True)
    client_event = AlertEvent.objects.create(
        project=run.project,
        run=run,
        client_alert=ClientAlert.objects.create(run=run, title="diverged", text="loss is nan"),
        level="ERROR",
        message="diverged",
        detail="loss is nan",
    )
    deliver(client_event, webhooks_for_event(client_event))
    body = json.loads(receiver.requests[0].body)
    assert body["source"] == "run.alert()" and body["rule"] is None
    assert body["alert"]["detail"] == "loss is nan" and body["alert"]["level"] == "ERROR"


def test_sending_costs_a_fixed_number_of_queries(receiver, make_webhook, event):
    webhook, _ = make_webhook(receiver.url)
    [delivery] = webhook_deliveries_create(event, [webhook])
    with CaptureQueriesContext(connection) as queries:
        send_alert_webhook.enqueue(delivery_id=delivery.pk)
    assert len(queries) <= 4, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "starts with https://"),
        ("javascript:alert(1)", "starts with https://"),
        ("https:///path", "names no host"),
        ("https://exa mple.com/", "no spaces"),
        ("https://example.com:99999/", "not a valid address"),
        ("https://example.com/" + "a" * 2000, "at most 2000"),
    ],
)
def test_an_address_that_is_not_a_web_address_is_refused(url, message):
    with pytest.raises(WebhookError, match=message):
        clean_url(url)


@given(st.text(max_size=80) | st.from_regex(r"https?://[a-z0-9.\[\]:@%-]{0,20}(/.{0,20})?"))
def test_any_address_is_refused_cleanly_or_kept_with_a_host(url):
    try:
        cleaned = clean_url(url)
    except WebhookError:
        return
    assert cleaned.split("://", 1)[0] in ("http", "https")
    assert webhook_http.url_hint(cleaned).count("/") == 2


def test_an_unexpected_error_fails_the_delivery_without_its_text(
    receiver, make_webhook, event, deliver, monkeypatch
):
    def broken(*args, **kwargs):
        raise ValueError(HOOK_PATH)

    monkeypatch.setattr("alerts.webhooks.alert_body", broken)
    webhook, _ = make_webhook(receiver.url + HOOK_PATH)

    [delivery] = deliver(event, [webhook])

    assert delivery.status == AlertDelivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == "Could not post (ValueError)."
    assert receiver.requests == []
