"""Notifications in a real browser: the bell in the top bar shows the unread count (loaded by
htmx after the page), leads to the notifications page; opening one lands on its run and the
count drops; "Mark all as read" empties it. Screenshots go to /tmp/notifications-shots/."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import AlertDelivery, AlertEvent
from alerts.tests.factories import AlertEventFactory, InAppNotificationFactory
from projects.services import project_create
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/notifications-shots")


def shot(page, name, **kwargs):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", **kwargs)


@pytest.fixture
def alerts_for_bob(team, alice, bob):
    """Three unread alerts of bob's runs: two from a rule, one the run raised itself."""
    project = project_create(entity=team, name="vision", creator=alice)
    diverging = RunFactory(project=project, name="diverging-sky", author=bob)
    calm = RunFactory(project=project, name="calm-lake", author=bob)
    now = timezone.now()
    fired = [
        (calm, "Validation loss too high", "val/loss is 1.4, above 1 (step 9).", 30),
        (diverging, "Validation loss too high", "val/loss is 2.5, above 1 (step 3).", 10),
    ]
    for run, rule_name, message, minutes in fired:
        event = AlertEventFactory(
            run=run, rule_name=rule_name, message=message, fired_at=now - timedelta(minutes=minutes)
        )
        InAppNotificationFactory(user=bob, event=event, created_at=event.fired_at)
    raised = diverging.alerts.create(title="Loss is NaN", text="step 12", level="ERROR")
    event = AlertEventFactory(
        run=diverging,
        rule_name="",
        client_alert=raised,
        level=AlertEvent.Level.ERROR,
        message="Loss is NaN",
        detail="step 12",
    )
    InAppNotificationFactory(user=bob, event=event)
    return project


def test_the_bell_counts_unread_alerts_and_opening_one_lands_on_its_run(
    page, login, bob, alerts_for_bob, live_server, browser_errors
):
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/settings/")
    bell = page.locator("#bell")
    expect(bell).to_have_attribute("aria-label", "3 unread notifications")
    expect(bell.locator(".bell-count")).to_have_text("3")
    shot(page, "0-bell", clip={"x": 0, "y": 0, "width": 1280, "height": 60})
    shot(page, "0-page-with-bell")

    page.get_by_role("link", name="3 unread notifications").click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    rows = page.locator("#notifications tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("run.alert()")  # the newest first
    expect(rows.first).to_contain_text("Loss is NaN")
    expect(rows.nth(1)).to_contain_text("Validation loss too high")
    expect(rows.nth(1)).to_contain_text("diverging-sky")
    expect(rows.nth(1)).to_contain_text("example-team/vision")
    expect(page.locator("#notifications tr.unread")).to_have_count(3)
    shot(page, "1-notifications", full_page=True)

    rows.nth(1).get_by_role("button", name="Open").click()
    run = alerts_for_bob.runs.get(name="diverging-sky")
    expect(page).to_have_url(re.compile(re.escape(run.get_absolute_url()) + "$"))
    expect(page.locator("#bell")).to_have_attribute("aria-label", "2 unread notifications")
    shot(page, "2-run-after-opening")

    page.locator("#bell").click()
    expect(page.locator("#notifications tr.unread")).to_have_count(2)
    expect(page.locator("#notifications tr.read")).to_contain_text("val/loss is 2.5")
    page.get_by_role("link", name="Unread only").click()
    expect(page.locator("#notifications tbody tr")).to_have_count(2)
    shot(page, "3-unread-only", full_page=True)

    page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator(".messages")).to_contain_text("Marked 2 notifications read.")
    expect(page.locator("#no-notifications")).to_contain_text("No unread notifications.")
    expect(page.locator("#bell")).to_have_attribute("aria-label", "No unread notifications")
    expect(page.locator("#bell .bell-count")).to_have_count(0)
    shot(page, "4-all-read", full_page=True)
    assert not AlertDelivery.objects.filter(user=bob, read_at=None).exists()


def test_the_bell_fits_the_top_bar_of_a_phone(page, login, bob, alerts_for_bob, live_server):
    login(page.context, bob)
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(live_server.url + "/notifications/")
    expect(page.locator("#bell")).to_have_attribute("aria-label", "3 unread notifications")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    shot(page, "5-phone", full_page=True)
