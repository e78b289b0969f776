"""Alert rules in a real browser: open the project's alerts, write a threshold rule, press
"Test this rule" and see the crafted run that would fire (recording nothing), save it, and
see it in the rules list; the history lists an alert. Screenshots go to /tmp/alerts-shots/."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from alerts.models import AlertEvent, AlertRule
from projects.services import project_create
from runs.ingest import apply_file_stream, parse_file_stream
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/alerts-shots")


def logged(run, key, values):
    lines = [json.dumps({"_step": step, key: value}) for step, value in enumerate(values)]
    apply_file_stream(
        run, parse_file_stream({"files": {"wandb-history.jsonl": {"offset": 0, "content": lines}}})
    )
    return run


@pytest.fixture
def vision(team, alice, bob):
    project = project_create(entity=team, name="vision", creator=alice)
    logged(RunFactory(project=project, name="calm-lake", author=bob), "val/loss", [0.4, 0.3])
    logged(RunFactory(project=project, name="diverging-sky", author=bob), "val/loss", [0.5, 2.5])
    return project


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_write_try_and_save_a_threshold_rule(page, login, bob, vision):
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(vision.get_absolute_url())
    shot(page, "0-project")
    page.get_by_role("link", name="Alerts", exact=True).click()
    expect(page.locator("#no-alerts")).to_be_visible()
    shot(page, "1-history-empty")
    page.get_by_role("link", name="Rules", exact=True).click()
    page.get_by_role("link", name="New rule").click()

    # The kind decides which parameters show (a stylesheet, no script).
    stall, signal = page.get_by_label("Quiet minutes"), page.get_by_label("Quiet means")
    expect(stall).to_be_hidden()
    expect(signal).to_be_hidden()
    page.get_by_label("Kind").select_option("stalled")
    expect(stall).to_be_visible()
    expect(signal).to_be_visible()
    expect(page.get_by_label("Metric")).to_be_hidden()
    page.get_by_label("Kind").select_option("threshold")
    expect(stall).to_be_hidden()

    page.get_by_label("Name").fill("Validation loss too high")
    page.get_by_role("button", name="Test this rule").click()  # no metric yet
    expect(page.locator("#rule-form")).to_contain_text("This kind of rule watches a metric")
    expect(page.locator("#rule-trial")).to_have_count(0)
    shot(page, "1b-rule-errors")
    page.get_by_label("Metric").fill("val/loss")
    page.get_by_label("Threshold").fill("1")
    page.get_by_role("button", name="Test this rule").click()
    trial = page.locator("#rule-trial")
    expect(trial).to_contain_text("diverging-sky")
    expect(trial).to_contain_text("val/loss is 2.5, above 1")
    expect(trial).to_contain_text("2.5")
    expect(trial).not_to_contain_text("calm-lake")
    expect(page.get_by_label("Name")).to_have_value("Validation loss too high")  # kept
    shot(page, "2-rule-tried")
    assert not AlertRule.objects.exists() and not AlertEvent.objects.exists()

    page.get_by_role("button", name="Save rule").click()
    expect(page.locator(".messages")).to_contain_text("Created the rule")
    row = page.locator("#alert-rules tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Validation loss too high")
    expect(row).to_contain_text("last val/loss > 1")
    expect(row).to_contain_text("active")
    shot(page, "3-rules-list")

    row.get_by_role("button", name="Snooze 1 h").click()
    expect(page.locator("#alert-rules tbody tr")).to_contain_text("snoozed until")
    rule = AlertRule.objects.get()
    assert rule.created_by == bob and rule.snoozed_until is not None

    AlertEvent.objects.create(
        project=vision,
        rule=rule,
        rule_name=rule.name,
        run=vision.runs.get(name="diverging-sky"),
        value=2.5,
        message="val/loss is 2.5, above 1 (step 1).",
    )
    page.get_by_role("link", name="Fired alerts").click()
    history = page.locator("#alert-history tbody tr")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("Validation loss too high")
    shot(page, "4-history")
    run = vision.runs.get(name="diverging-sky")
    history.get_by_role("link", name="diverging-sky").click()
    expect(page).to_have_url(re.compile(re.escape(run.get_absolute_url()) + "$"))
