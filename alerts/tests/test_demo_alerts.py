"""The demo's alert rules are evaluated on the demo runs' logged history by the same services
as ingestion, so the demo's alert history and alice's bell hold what the rules really found."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from alerts.models import AlertDelivery, AlertEvent, AlertRule


@pytest.mark.django_db
def test_demo_rules_find_what_the_demo_runs_logged():
    call_command("load_demo_data", stdout=StringIO())
    out = StringIO()
    call_command("load_demo_alerts", stdout=out)

    assert AlertRule.objects.filter(project__name="resnet").count() == 4
    events = list(AlertEvent.objects.select_related("rule", "run"))
    assert events and "4 alerts" in out.getvalue()
    for event in events:
        assert event.run.project.name == "resnet" and event.value > event.rule.threshold
    bell = AlertDelivery.objects.filter(channel="in_app", user__username="alice", read_at=None)
    assert bell.count() == len(events)
    assert not AlertDelivery.objects.filter(channel="email").exists()

    call_command("load_demo_alerts", stdout=out)  # safe to rerun
    assert AlertRule.objects.count() == 4 and AlertEvent.objects.count() == len(events)


@pytest.mark.django_db
def test_demo_alerts_need_the_demo_data():
    with pytest.raises(CommandError, match="load_demo_data"):
        call_command("load_demo_alerts", stdout=StringIO())
