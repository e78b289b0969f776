"""A team's webhooks in a real browser: the admin adds one from the team's pages, copies the
signing secret shown once, sends a test to a receiver on 127.0.0.1 and sees its answer.
Screenshots go to /tmp/webhooks-shots/."""

import hashlib
import hmac
from pathlib import Path

import pytest
from playwright.sync_api import expect

from alerts.models import Webhook
from alerts.tests.receiver import receiver_fixture  # noqa: F401 (the local receiver)

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/webhooks-shots")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_an_admin_adds_a_webhook_and_sends_a_test(
    page, login, alice, team, receiver, browser_errors
):
    login(page.context, alice)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/teams/{team.name}/settings/")
    page.get_by_role("link", name="Webhooks", exact=True).click()
    expect(page.locator("#webhooks")).to_contain_text("No webhooks yet.")
    shot(page, "1-empty")

    page.get_by_label("Name").fill("ops")
    page.get_by_label("Address").fill("ftp://nowhere.example/")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#webhook-form")).to_contain_text("The address starts with https://")
    assert not Webhook.objects.exists()
    # The refused form answers 400, which the console reports.
    browser_errors[:] = [error for error in browser_errors if "status of 400" not in error]
    shot(page, "2-bad-address")

    page.get_by_label("Address").fill(receiver.url + "/hooks/token-7f3a")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhook ops added")
    secret = page.locator("#secret").inner_text()
    assert secret.startswith("whsec_")
    shot(page, "3-secret-once")

    page.get_by_role("link", name="Back to webhooks").click()
    row = page.locator("#webhooks tbody tr")
    expect(row).to_contain_text("ops")
    expect(row).to_contain_text(receiver.url + "/…")
    expect(page.locator("body")).not_to_contain_text(secret)
    expect(page.locator("body")).not_to_contain_text("token-7f3a")

    row.get_by_role("button", name="Send a test").click()
    expect(page.locator(".messages")).to_contain_text(f"{receiver.url} answered the test with 200.")
    shot(page, "4-tested")
    [request] = receiver.requests
    fields = dict(part.split("=", 1) for part in request.headers["Teamsite-Signature"].split(","))
    signed = fields["t"].encode() + b"." + request.body
    assert fields["v1"] == hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()

    row.get_by_role("link", name="ops").click()
    shot(page, "5-edit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhook ops")
