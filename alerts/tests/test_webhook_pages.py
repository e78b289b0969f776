"""The team's webhook pages: admins only, the secret shown once, bad input refused with nothing
stored, deleting one takes it off its rules, and "Send a test" against a real receiver."""

import hashlib
import hmac
import json
import re
import socket

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.models import AlertDelivery, AlertEvent, AlertRule, Webhook
from alerts.webhooks import webhook_create
from teamsite.lib import secretbox
from tests.factories import TeamFactory

from .factories import AlertRuleFactory
from .receiver import receiver_fixture  # noqa: F401 (the local receiver)

HOOK_PATH = "/services/T000/B000/token-7f3a"


def url(name, team, *args):
    return reverse(f"webhooks:{name}", args=[team.name, *args])


@pytest.fixture
def admin_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def webhook_and_secret(team, alice, receiver):
    return webhook_create(
        entity=team,
        name="ops",
        url=receiver.url + HOOK_PATH,
        format="generic",
        client_alerts=False,
        actor=alice,
    )


@pytest.fixture
def webhook(webhook_and_secret):
    return webhook_and_secret[0]


def form(**fields):
    return {
        "name": "ops",
        "url": "https://hooks.example.com" + HOOK_PATH,
        "format": "generic",
        **fields,
    }


def shown_secret(response) -> str:
    return re.search(r'<code id="secret">(whsec_[\w-]+)</code>', response.content.decode())[1]


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(admin_client, team):
    response = admin_client.post(url("create", team), form(client_alerts="on"))

    assert response.status_code == 200
    webhook = Webhook.objects.get(entity=team)
    raw_secret = shown_secret(response)
    assert secretbox.decrypt(webhook.encrypted_secret) == raw_secret
    assert secretbox.decrypt(webhook.encrypted_url) == "https://hooks.example.com" + HOOK_PATH
    assert webhook.url_hint == "https://hooks.example.com" and webhook.client_alerts
    assert webhook.created_by.username == "alice"
    assert "Teamsite-Signature" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    for page in (url("list", team), url("edit", team, webhook.key)):
        body = admin_client.get(page).content.decode()
        assert "ops" in body and "https://hooks.example.com/…" in body
        assert raw_secret not in body and "token-7f3a" not in body


def test_the_list_shows_each_webhooks_rules_and_last_delivery(
    admin_client, team, webhook, project, run, alice
):
    rule = AlertRuleFactory(project=project, kind=AlertRule.Kind.FAILED, created_by=alice)
    rule.webhooks.add(webhook)
    event = AlertEvent.objects.create(project=project, rule=rule, run=run, message="failed")
    AlertDelivery.objects.create(
        event=event, channel="webhook", webhook=webhook, status="failed", target="ops"
    )

    response = admin_client.get(url("list", team))

    [row] = response.context["webhooks"]
    assert (row.rule_count, row.last_status) == (1, "failed")
    assert 'class="badge delivery-failed"' in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"url": "ftp://files.example.com/drop"}, "starts with https://"),
        ({"url": "hooks.example.com/x"}, "starts with https://"),
        ({"url": ""}, "This field is required"),
        ({"name": ""}, "This field is required"),
        ({"format": "xml"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(admin_client, team, fields, error):
    response = admin_client.post(url("create", team), form(**fields))
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Webhook.objects.exists()


def test_a_second_webhook_of_the_same_name_is_refused(admin_client, team, webhook):
    response = admin_client.post(url("create", team), form())
    assert response.status_code == 400
    assert "already has a webhook named ops" in response.content.decode()
    assert Webhook.objects.count() == 1


def test_another_team_may_use_the_same_name(admin_client, team, webhook, alice):
    other = TeamFactory(name="other-team", creator=alice)
    assert admin_client.post(url("create", other), form()).status_code == 200
    assert Webhook.objects.filter(name="ops").count() == 2


def test_editing_without_an_address_keeps_it(admin_client, team, webhook, receiver):
    response = admin_client.post(
        url("edit", team, webhook.key), {"name": "alerts", "url": "", "format": "slack"}
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.name, webhook.format, webhook.client_alerts) == ("alerts", "slack", False)
    assert secretbox.decrypt(webhook.encrypted_url) == receiver.url + HOOK_PATH


def test_editing_with_a_new_address_replaces_it(admin_client, team, webhook):
    admin_client.post(
        url("edit", team, webhook.key),
        {"name": "ops", "url": "https://chat.example.org/hooks/abc", "format": "generic"},
    )
    webhook.refresh_from_db()
    assert webhook.url_hint == "https://chat.example.org"
    assert secretbox.decrypt(webhook.encrypted_url) == "https://chat.example.org/hooks/abc"


def test_editing_into_a_taken_name_or_a_bad_address_changes_nothing(
    admin_client, team, webhook, alice
):
    webhook_create(
        entity=team,
        name="other",
        url="https://a.example/",
        format="generic",
        client_alerts=False,
        actor=alice,
    )
    before = Webhook.objects.filter(pk=webhook.pk).values().get()
    for data in ({"name": "other", "url": ""}, {"name": "ops", "url": "gopher://a.example/"}):
        response = admin_client.post(url("edit", team, webhook.key), {**data, "format": "generic"})
        assert response.status_code == 400
        assert "Webhook ops" in response.content.decode()
    assert Webhook.objects.filter(pk=webhook.pk).values().get() == before


def test_a_new_secret_is_shown_once_and_replaces_the_old(admin_client, team, webhook_and_secret):
    webhook, old_secret = webhook_and_secret
    response = admin_client.post(url("rotate_secret", team, webhook.key))
    new_secret = shown_secret(response)
    webhook.refresh_from_db()
    assert new_secret != old_secret
    assert secretbox.decrypt(webhook.encrypted_secret) == new_secret
    assert new_secret not in admin_client.get(url("edit", team, webhook.key)).content.decode()


def test_deleting_a_webhook_takes_it_off_its_rules_and_keeps_the_log(
    admin_client, team, webhook, project, run, alice
):
    rule = AlertRuleFactory(project=project, kind=AlertRule.Kind.FAILED, created_by=alice)
    rule.webhooks.add(webhook)
    event = AlertEvent.objects.create(project=project, rule=rule, run=run, message="failed")
    delivery = AlertDelivery.objects.create(
        event=event, channel="webhook", webhook=webhook, status="sent", target="ops (…)"
    )

    response = admin_client.post(url("delete", team, webhook.key))

    assert response.status_code == 302
    assert not Webhook.objects.exists() and not rule.webhooks.exists()
    delivery.refresh_from_db()
    assert delivery.webhook is None and delivery.status == "sent"


def test_send_a_test_posts_a_signed_message_and_shows_the_answer(
    admin_client, team, webhook_and_secret, receiver
):
    webhook, raw_secret = webhook_and_secret
    response = admin_client.post(url("test", team, webhook.key), follow=True)

    assert f"{receiver.url} answered the test with 200." in response.content.decode()
    [request] = receiver.requests
    assert request.path == HOOK_PATH and request.headers["Teamsite-Event"] == "webhook.test"
    fields = dict(part.split("=", 1) for part in request.headers["Teamsite-Signature"].split(","))
    signed = fields["t"].encode() + b"." + request.body
    assert fields["v1"] == hmac.new(raw_secret.encode(), signed, hashlib.sha256).hexdigest()
    body = json.loads(request.body)
    assert body["type"] == "webhook.test" and body["webhook"] == {"name": "ops", "team": team.name}
    assert not AlertDelivery.objects.exists()


def test_send_a_test_shows_a_failure_without_the_address(admin_client, team, alice, receiver):
    receiver.script = [404]
    webhook, _ = webhook_create(
        entity=team,
        name="ops",
        url=receiver.url + HOOK_PATH,
        format="slack",
        client_alerts=False,
        actor=alice,
    )
    response = admin_client.post(url("test", team, webhook.key), follow=True)
    body = response.content.decode()
    assert f"The test to ops failed: {receiver.url} answered 404" in body
    assert "token-7f3a" not in body
    assert "text" in json.loads(receiver.requests[0].body)


def test_send_a_test_to_a_closed_port_says_so(admin_client, team, alice):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    webhook, _ = webhook_create(
        entity=team,
        name="ops",
        url=f"http://127.0.0.1:{port}/x",
        format="generic",
        client_alerts=False,
        actor=alice,
    )
    response = admin_client.post(url("test", team, webhook.key), follow=True)
    assert "Connection refused" in response.content.decode()


@pytest.mark.parametrize("action", ["create", "rotate_secret", "delete", "test"])
def test_members_get_403_and_outsiders_404_and_nothing_changes(
    client, team, webhook, bob, charlie, action
):
    args = [] if action == "create" else [webhook.key]
    before = list(Webhook.objects.values())
    page = url(action, team, *args)
    response = client.post(page, form(name="made-here"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(bob)
    assert client.post(page, form(name="made-here")).status_code == 403
    client.force_login(charlie)
    assert client.post(page, form(name="made-here")).status_code == 404
    assert list(Webhook.objects.values()) == before


@pytest.mark.parametrize("page", ["list", "edit"])
def test_pages_are_for_admins(client, team, webhook, alice, bob, charlie, page):
    address = url(page, team, *([webhook.key] if page == "edit" else []))
    assert "/accounts/login/" in client.get(address)["Location"]
    client.force_login(charlie)
    assert client.get(address).status_code == 404
    client.force_login(bob)
    assert client.get(address).status_code == 403
    client.force_login(alice)
    assert client.get(address).status_code == 200


def test_a_webhook_of_another_team_is_not_found(admin_client, team, webhook, alice):
    other = TeamFactory(name="other-team", creator=alice)
    assert admin_client.get(url("edit", other, webhook.key)).status_code == 404
    assert admin_client.post(url("delete", other, webhook.key)).status_code == 404
    assert Webhook.objects.filter(pk=webhook.pk).exists()


@pytest.mark.parametrize("action", ["create", "rotate_secret", "delete", "test"])
def test_actions_take_post_only(admin_client, team, webhook, action):
    args = [] if action == "create" else [webhook.key]
    assert admin_client.get(url(action, team, *args)).status_code == 405


def test_a_post_without_the_csrf_token_is_refused(team, webhook, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(url("delete", team, webhook.key)).status_code == 403
    assert client.post(url("create", team), form(name="made-here")).status_code == 403
    assert list(Webhook.objects.values_list("name", flat=True)) == ["ops"]


def test_the_team_sidebar_links_the_webhooks_page_for_admins(admin_client, client, team, bob):
    assert (
        url("list", team)
        in admin_client.get(reverse("teams:settings", args=[team.name])).content.decode()
    )
    client.force_login(bob)
    assert (
        url("list", team)
        not in client.get(reverse("teams:members", args=[team.name])).content.decode()
    )


def test_the_list_costs_the_same_queries_for_one_webhook_or_many(
    admin_client, team, alice, project, run
):
    def add(index):
        webhook, _ = webhook_create(
            entity=team,
            name=f"hook {index}",
            url=f"https://h{index}.example/x",
            format="generic",
            client_alerts=False,
            actor=alice,
        )
        rule = AlertRuleFactory(project=project, kind=AlertRule.Kind.FAILED, created_by=alice)
        rule.webhooks.add(webhook)
        event = AlertEvent.objects.create(project=project, rule=rule, run=run, message="failed")
        AlertDelivery.objects.create(event=event, channel="webhook", webhook=webhook, target="x")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url("list", team)).status_code == 200
        return len(queries)

    add(0)
    one = count()
    for index in range(1, 6):
        add(index)
    assert count() == one


def test_the_admin_shows_a_webhook_without_its_address_or_secret(
    client, webhook_and_secret, django_user_model
):
    webhook, raw_secret = webhook_and_secret
    operator = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(operator)
    base = "/admin/alerts/webhook/"

    page = client.get(f"{base}{webhook.pk}/change/").content.decode()

    assert "ops" in page and webhook.url_hint in page
    for private in (raw_secret, "token-7f3a", webhook.encrypted_url, webhook.encrypted_secret):
        assert private not in page
    assert client.get(f"{base}add/").status_code == 403


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    address=st.text(max_size=60)
    | st.from_regex(r"(https?|ftp|javascript)://[a-z0-9.:@\[\]%-]{0,20}(/[^\s]{0,20})?"),
    name=st.text(max_size=110),
)
def test_any_form_input_is_stored_or_refused_cleanly(admin_client, team, address, name):
    response = admin_client.post(
        url("create", team), {"name": name, "url": address, "format": "generic"}
    )
    stored = Webhook.objects.filter(entity=team)
    if response.status_code == 200:
        [webhook] = stored
        assert secretbox.decrypt(webhook.encrypted_url) == address.strip()
        assert webhook.url_hint.split("://")[0] in ("http", "https")
        webhook.delete()
    else:
        assert response.status_code == 400 and not stored.exists()
