"""The rules in the Django admin: the same checks as the service, shown as form errors."""

import pytest
from django.urls import reverse

from alerts.models import AlertRule
from tests.factories import UserFactory


@pytest.fixture
def staff_client(client, db):
    operator = UserFactory(username="operator")
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    return client


def rule_form(project, **fields):
    return {
        "project": project.pk,
        "name": "loss too high",
        "kind": "threshold",
        "metric": "loss",
        "scope": "",
        "window": 1,
        "previous_window": 1,
        "aggregate": "last",
        "comparison": ">",
        "threshold": "2",
        "mode": "absolute",
        "tolerance": 0,
        "peer_runs": 20,
        "cooldown": 3600,
        "stall_signal": "heartbeat",
        **fields,
    }


def test_a_rule_added_in_the_admin_is_stored(staff_client, project):
    response = staff_client.post(
        reverse("admin:alerts_alertrule_add"), rule_form(project, scope='tags has "nightly"')
    )
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.kind, rule.threshold, rule.scope) == ("threshold", 2.0, 'tags has "nightly"')


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"scope": "tags has"}, "at character"),
        ({"threshold": ""}, "Give the number the value is compared with."),
        ({"kind": "stalled", "metric": ""}, "Give the quiet minutes"),
    ],
)
def test_a_bad_rule_is_a_form_error_in_the_admin(staff_client, project, fields, error):
    response = staff_client.post(
        reverse("admin:alerts_alertrule_add"), rule_form(project, **fields)
    )
    assert response.status_code == 200
    assert error in response.text
    assert not AlertRule.objects.exists()
