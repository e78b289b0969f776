"""An alert rule catches a regression logged by the real wandb client: a member writes a
threshold rule in the browser, a training job (the client, in a subprocess) logs a validation
loss that improves and then climbs past the threshold over several chunks, and the project's
alert history shows one alert for the run, emailed once to the rule's creator.
Screenshots go to /tmp/alerts-real-client-shots/."""

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

import alerts.tasks
from alerts.evaluation import newest_points
from alerts.models import AlertDelivery, AlertEvent, AlertRule
from projects.services import project_create
from runs.models import MetricKey, Run
from tests.factories import api_key_for
from tests.wandb_client import WandbClient

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/alerts-real-client-shots")
RULE_NAME = "Validation loss regressed"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def evaluations(monkeypatch):
    """The newest val_loss each evaluation of a stored chunk saw, in order. The live server
    runs in a thread of this process with the immediate tasks backend: its evaluations run
    here, once each chunk commits."""
    seen = []
    evaluate = alerts.tasks.evaluate_after_ingest

    def recording(run, keys, **kwargs):
        fired = evaluate(run, keys, **kwargs)
        key_id = MetricKey.objects.filter(stream=MetricKey.Stream.HISTORY, name="val_loss")
        points = newest_points(run.pk, key_id.values_list("id", flat=True).first(), 1)
        seen.append(points[0][1] if points else None)
        return fired

    monkeypatch.setattr(alerts.tasks, "evaluate_after_ingest", recording)
    return seen


def test_a_rule_catches_a_regression_logged_by_the_client(
    page, login, live_server, tmp_path, team, alice, bob, evaluations
):
    project = project_create(entity=team, name="vision", creator=alice)
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 900})

    # bob writes the rule.
    page.goto(project.get_absolute_url())
    page.get_by_role("link", name="Alerts", exact=True).click()
    expect(page.locator("#no-alerts")).to_be_visible()
    page.get_by_role("link", name="Rules", exact=True).click()
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill(RULE_NAME)
    page.get_by_label("Kind").select_option("threshold")
    page.get_by_label("Metric").fill("val_loss")
    page.get_by_label("Fires when the value is").select_option(">")
    page.get_by_label("Threshold").fill("1.0")
    shot(page, "1-rule-form")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator(".messages")).to_contain_text("Created the rule")
    row = page.locator("#alert-rules tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(RULE_NAME)
    expect(row).to_contain_text("last val_loss > 1")
    shot(page, "2-rules-list")
    rule = AlertRule.objects.get()
    assert (rule.project, rule.created_by, rule.metric, rule.threshold) == (
        project,
        bob,
        "val_loss",
        1.0,
    )

    # bob's training job logs the run with the client.
    client = WandbClient(live_server.url, tmp_path)
    result, completed = client.run(
        "log_regression.py",
        team.name,
        project.name,
        "regressing-sky",
        key=api_key_for(bob, "training job"),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    run = Run.objects.get(run_id=result["id"])
    assert (run.project, run.author, run.state) == (project, bob, Run.State.FINISHED)
    # Several stored chunks showed the loss above the threshold: the cooldown kept them quiet.
    assert sum(value is not None and value > 1 for value in evaluations) >= 2, evaluations

    # The history shows the alert; it fired once, at a value past the threshold.
    page.get_by_role("link", name="Fired alerts").click()
    history = page.locator("#alert-history tbody tr")
    expect(history).to_have_count(1)
    event = AlertEvent.objects.get(rule=rule, run=run)
    assert AlertEvent.objects.count() == 1
    assert 1 < event.value <= 3.2 + 1e-9, event.value
    shown = f"{event.value:.6g}"
    expect(history.locator("td").nth(1)).to_have_text(RULE_NAME)
    expect(history.locator("td").nth(2)).to_have_text("regressing-sky")
    expect(history.locator("td").nth(3)).to_have_text(shown)
    expect(history).to_contain_text(f"val_loss is {shown}, above 1 (step ")
    expect(history.locator(".deliveries")).to_have_text("Email: sent In-app: sent")
    # And under bob's bell.
    expect(page.get_by_role("link", name="1 unread notification")).to_be_visible()
    shot(page, "3-history")

    # Emailed once, to the rule's creator.
    sent = [message for message in mail.outbox if message.subject.startswith("[Alert]")]
    assert [message.to for message in sent] == [[bob.email]]
    assert RULE_NAME in sent[0].subject and "regressing-sky" in sent[0].subject
    assert run.get_absolute_url() in sent[0].body
    delivery = AlertDelivery.objects.get(event=event, channel=AlertDelivery.Channel.EMAIL)
    assert (delivery.user, delivery.status) == (bob, AlertDelivery.Status.SENT)

    # The run link opens the run.
    history.get_by_role("link", name="regressing-sky").click()
    expect(page).to_have_url(re.compile(re.escape(run.get_absolute_url()) + "$"))
    expect(page.locator("h1")).to_contain_text("regressing-sky")
    chart = page.locator('[data-chart][data-key="val_loss"]')
    expect(chart).to_have_attribute("data-loaded", "20")  # every step the client logged
    expect(chart.locator(".scatterlayer path.js-line").first).to_be_visible()
    shot(page, "4-run")
