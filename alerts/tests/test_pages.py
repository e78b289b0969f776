"""The alert pages through the test client: the rule form for every kind (valid and not),
editing, mute/snooze/delete, who may do what, "Test this rule", and the history."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from alerts.models import AlertDelivery, AlertEvent, AlertRule, RuleRunState, Webhook
from alerts.services import client_alert_raise
from artifacts.models import ArtifactCollection
from projects.models import Project
from teamsite.lib.secretbox import encrypt
from tests.factories import ProjectFactory, RunFactory

from .factories import AlertRuleFactory

Kind = AlertRule.Kind


def url(name, project, *args):
    return reverse(f"alerts:{name}", args=[project.entity.name, project.name, *args])


@pytest.fixture
def bob_rule(project, bob):
    return AlertRuleFactory(
        project=project, kind=Kind.THRESHOLD, name="loss high", threshold=1, created_by=bob
    )


@pytest.fixture
def portfolio(project):
    return ArtifactCollection.objects.create(
        project=project, name="classifier", type="model", kind=ArtifactCollection.Kind.PORTFOLIO
    )


def valid_inputs(run, portfolio):
    """A form's fields for a correct rule of each kind."""
    return {
        Kind.THRESHOLD: {
            "metric": "val/loss",
            "aggregate": "mean",
            "window": 5,
            "comparison": ">",
            "threshold": 0.9,
        },
        Kind.CHANGE: {
            "metric": "loss",
            "window": 3,
            "previous_window": 3,
            "comparison": ">",
            "threshold": 0.2,
            "mode": "relative",
        },
        Kind.BASELINE: {
            "metric": "acc",
            "direction": "higher",
            "tolerance": 0.01,
            "baseline_run": run.run_id,
        },
        Kind.OUTLIER: {"metric": "loss", "threshold": 3, "peer_runs": 10},
        Kind.NONFINITE: {"metric": "loss", "window": 1},
        Kind.FAILED: {},
        Kind.CRASHED: {},
        Kind.STALLED: {"stall_minutes": 30},
    }


# What a kind refuses, and the field the error is under.
INVALID = [
    (Kind.THRESHOLD, {"metric": "loss"}, "threshold"),
    (Kind.THRESHOLD, {"threshold": 1}, "metric"),
    (Kind.THRESHOLD, {"metric": "loss", "threshold": 1, "window": 0}, "window"),
    (Kind.CHANGE, {"metric": "loss"}, "threshold"),
    (Kind.BASELINE, {"metric": "acc", "direction": "higher"}, "baseline_run"),
    (Kind.BASELINE, {"metric": "acc", "direction": "lower", "baseline_run": "x"}, "baseline_run"),
    (Kind.OUTLIER, {"metric": "loss", "threshold": -1}, "threshold"),
    (Kind.OUTLIER, {"metric": "loss", "threshold": 2, "peer_runs": 1}, "peer_runs"),
    (Kind.NONFINITE, {}, "metric"),
    (Kind.STALLED, {}, "stall_minutes"),
    (Kind.FAILED, {"scope": "config.lr >"}, "scope"),
    (Kind.FAILED, {"name": ""}, "name"),
]


def form_data(kind, fields):
    return {"name": f"{kind} rule", "kind": kind, "scope": "", "cooldown": 3600, **fields}


@pytest.mark.parametrize("kind", list(Kind))
def test_a_member_creates_a_rule_of_each_kind(client, bob, project, run, portfolio, kind):
    client.force_login(bob)
    fields = valid_inputs(run, portfolio)[kind]
    response = client.post(url("rule_create", project), form_data(kind, fields))
    assert response.status_code == 302
    assert response.url == url("rules", project)
    rule = AlertRule.objects.get(project=project)
    assert (rule.kind, rule.name, rule.created_by) == (kind, f"{kind} rule", bob)
    if kind == Kind.BASELINE:
        assert rule.baseline_run == run
    for name, value in fields.items():
        if name != "baseline_run":
            stored = getattr(rule, name)
            assert stored == type(stored)(value)


def hook(entity, name):
    return Webhook.objects.create(
        entity=entity,
        name=name,
        encrypted_url=encrypt("https://hooks.example/services/T0/B0/secretpath"),
        url_hint="https://hooks.example",
        encrypted_secret=encrypt("whsec_x"),
    )


def test_a_rule_chooses_where_its_alerts_go(client, bob, project, public_team):
    ours, _unused = hook(project.entity, "ops chat"), hook(project.entity, "pager")
    theirs = hook(public_team, "elsewhere")
    client.force_login(bob)
    page = client.get(url("rule_create", project)).content.decode()
    assert "ops chat" in page and "pager" in page and "elsewhere" not in page
    assert "hooks.example/services" not in page  # the address is a secret

    fields = {"stall_minutes": 30, "stall_signal": "history", "notify_in_app": "on"}
    fields["webhooks"] = [ours.pk]
    response = client.post(url("rule_create", project), form_data(Kind.STALLED, fields))

    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.notify_email, rule.notify_in_app, rule.stall_signal) == (False, True, "history")
    assert list(rule.webhooks.all()) == [ours]
    # Another team's webhook is refused, and the rule keeps its own.
    fields["webhooks"] = [theirs.pk]
    response = client.post(url("rule_edit", project, rule.key), form_data(Kind.STALLED, fields))
    assert response.status_code == 400 and "webhooks" in response.context["form"].errors
    assert list(rule.webhooks.all()) == [ours]


def test_a_baseline_by_registered_model_and_alias(client, bob, project, portfolio):
    client.force_login(bob)
    fields = {
        "metric": "acc",
        "direction": "lower",
        "baseline_portfolio": portfolio.pk,
        "baseline_alias": "production",
    }
    response = client.post(url("rule_create", project), form_data(Kind.BASELINE, fields))
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.baseline_portfolio, rule.baseline_alias) == (portfolio, "production")


def test_a_registered_model_of_another_team_is_not_offered(
    client, bob, project, public_team, alice
):
    other = ArtifactCollection.objects.create(
        project=ProjectFactory(entity=public_team, creator=alice),
        name="theirs",
        type="model",
        kind=ArtifactCollection.Kind.PORTFOLIO,
    )
    client.force_login(bob)
    fields = {"metric": "acc", "direction": "lower", "baseline_portfolio": other.pk}
    fields["baseline_alias"] = "production"
    response = client.post(url("rule_create", project), form_data(Kind.BASELINE, fields))
    assert response.status_code == 400
    assert "baseline_portfolio" in response.context["form"].errors
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(("kind", "fields", "field"), INVALID)
def test_an_incomplete_rule_is_a_form_error_and_nothing_is_saved(
    client, bob, project, kind, fields, field
):
    client.force_login(bob)
    response = client.post(url("rule_create", project), form_data(kind, fields))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert escape(errors[field][0]) in response.content.decode()
    assert not AlertRule.objects.exists()


def test_a_bad_scope_names_the_parser_error_under_the_field(client, bob, project):
    client.force_login(bob)
    data = form_data(Kind.FAILED, {"scope": 'tags has "nightly" and'})
    response = client.post(url("rule_create", project), data)
    assert response.status_code == 400
    (error,) = response.context["form"].errors["scope"]
    assert "character" in error


def test_values_typed_for_another_kind_are_not_stored(client, bob, project):
    client.force_login(bob)
    fields = {"metric": "loss", "threshold": 5, "window": 7, "stall_minutes": 9}
    client.post(url("rule_create", project), form_data(Kind.FAILED, fields))
    rule = AlertRule.objects.get()
    assert (rule.metric, rule.threshold, rule.window, rule.stall_minutes) == ("", None, 1, None)


def test_the_form_page_offers_every_kind_and_recent_runs(client, bob, project, run):
    client.force_login(bob)
    response = client.get(url("rule_create", project))
    assert response.status_code == 200
    page = response.content.decode()
    assert all(f'value="{kind}"' in page for kind in Kind)
    assert f'<option value="{run.run_id}">' in page
    assert 'data-kinds="threshold change"' in page  # comparison: shown to those two kinds


def test_the_creator_edits_a_rule(client, bob, project, bob_rule):
    client.force_login(bob)
    page = client.get(url("rule_edit", project, bob_rule.key))
    assert page.status_code == 200 and 'value="loss high"' in page.content.decode()
    data = form_data(Kind.THRESHOLD, {"metric": "loss", "threshold": 2, "comparison": "<"})
    data["name"] = "loss low"
    response = client.post(url("rule_edit", project, bob_rule.key), data)
    assert response.status_code == 302
    bob_rule.refresh_from_db()
    assert (bob_rule.name, bob_rule.threshold, bob_rule.comparison) == ("loss low", 2, "<")
    assert bob_rule.created_by == bob  # editing keeps the creator


def test_editing_a_baseline_rule_keeps_its_run(client, bob, project, make_run):
    baseline = make_run(run_id="base1")
    rule = AlertRuleFactory(
        project=project,
        kind=Kind.BASELINE,
        metric="acc",
        direction="higher",
        baseline_run=baseline,
        created_by=bob,
    )
    client.force_login(bob)
    form = client.get(url("rule_edit", project, rule.key)).context["form"]
    assert form["baseline_run"].value() == "base1"
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(name="renamed", baseline_run="base1", tolerance=0.5)
    response = client.post(url("rule_edit", project, rule.key), data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.baseline_run, rule.tolerance) == ("renamed", baseline, 0.5)


def test_a_bad_edit_changes_nothing(client, bob, project, bob_rule):
    client.force_login(bob)
    data = form_data(Kind.THRESHOLD, {"metric": "", "threshold": 2})
    response = client.post(url("rule_edit", project, bob_rule.key), data)
    assert response.status_code == 400
    bob_rule.refresh_from_db()
    assert (bob_rule.metric, bob_rule.threshold) == ("loss", 1)


def test_mute_unmute_snooze_and_wake(client, bob, project, bob_rule):
    client.force_login(bob)
    client.post(url("rule_mute", project, bob_rule.key))
    bob_rule.refresh_from_db()
    assert bob_rule.muted and not bob_rule.is_active()
    page = client.get(url("rules", project)).content.decode()
    assert ">muted<" in page and "Unmute" in page
    client.post(url("rule_unmute", project, bob_rule.key))
    bob_rule.refresh_from_db()
    assert not bob_rule.muted

    before = timezone.now()
    client.post(url("rule_snooze", project, bob_rule.key), {"hours": "1d"})
    bob_rule.refresh_from_db()
    assert before + timedelta(hours=24) <= bob_rule.snoozed_until
    assert bob_rule.snoozed_until <= timezone.now() + timedelta(hours=24)
    assert "snoozed until" in client.get(url("rules", project)).content.decode()
    client.post(url("rule_snooze", project, bob_rule.key), {"hours": "1h"})
    bob_rule.refresh_from_db()
    assert bob_rule.snoozed_until <= timezone.now() + timedelta(hours=1)
    client.post(url("rule_snooze", project, bob_rule.key), {"hours": "off"})
    bob_rule.refresh_from_db()
    assert bob_rule.snoozed_until is None and bob_rule.is_active()


def test_a_bad_snooze_changes_nothing(client, bob, project, bob_rule):
    client.force_login(bob)
    response = client.post(url("rule_snooze", project, bob_rule.key), {"hours": "forever"})
    assert response.status_code == 302
    bob_rule.refresh_from_db()
    assert bob_rule.snoozed_until is None


def test_deleting_a_rule_keeps_its_alerts(client, bob, project, bob_rule, run):
    event = AlertEvent.objects.create(
        project=project, rule=bob_rule, rule_name=bob_rule.name, run=run, message="loss is 2"
    )
    client.force_login(bob)
    response = client.post(url("rule_delete", project, bob_rule.key))
    assert response.status_code == 302
    assert not AlertRule.objects.exists()
    event.refresh_from_db()
    assert event.rule is None
    history = client.get(url("history", project)).content.decode()
    assert "loss high" in history and "deleted" in history


def test_the_rules_list_reads_each_rule(client, bob, project, bob_rule):
    AlertRuleFactory(
        project=project,
        kind=Kind.THRESHOLD,
        name="val loss",
        metric="val/loss",
        aggregate="mean",
        window=5,
        threshold=0.9,
        scope='tags has "nightly"',
        cooldown=86400,
    )
    client.force_login(bob)
    page = client.get(url("rules", project)).content.decode()
    assert "mean of last 5 val/loss &gt; 0.9" in page
    assert "tags has &quot;nightly&quot;" in page
    assert "1 d" in page and "1 h" in page
    assert ">bob<" in page


# Permissions


def test_outsiders_get_404_everywhere(client, charlie, project, bob_rule):
    client.force_login(charlie)
    pages = (("history", ()), ("rules", ()), ("rule_create", ()), ("rule_edit", (bob_rule.key,)))
    for name, args in pages:
        assert client.get(url(name, project, *args)).status_code == 404
    for name in ("rule_mute", "rule_snooze", "rule_delete"):
        assert client.post(url(name, project, bob_rule.key), {"hours": "1h"}).status_code == 404
    assert client.post(url("rule_try", project), form_data(Kind.FAILED, {})).status_code == 404
    bob_rule.refresh_from_db()
    assert not bob_rule.muted and bob_rule.snoozed_until is None


def test_anonymous_visitors_are_sent_to_sign_in_for_rules(client, project, bob_rule):
    assert client.get(url("history", project)).status_code == 404
    response = client.get(url("rules", project))
    assert response.status_code == 302 and "/accounts/login/" in response.url


@pytest.mark.parametrize("action", ["rule_mute", "rule_snooze", "rule_delete", "rule_edit"])
def test_another_member_cannot_change_a_rule_but_an_admin_can(
    client, erin, alice, project, bob_rule, action
):
    data = {"hours": "1h"} if action == "rule_snooze" else form_data(Kind.FAILED, {})
    client.force_login(erin)
    assert client.post(url(action, project, bob_rule.key), data).status_code == 403
    bob_rule.refresh_from_db()
    assert (bob_rule.muted, bob_rule.snoozed_until, bob_rule.kind) == (False, None, "threshold")
    listing = client.get(url("rules", project)).content.decode()
    assert "loss high" in listing and url("rule_mute", project, bob_rule.key) not in listing

    client.force_login(alice)
    assert client.post(url(action, project, bob_rule.key), data).status_code == 302
    rule = AlertRule.objects.filter(pk=bob_rule.pk).first()
    changed = {
        "rule_mute": lambda: rule.muted,
        "rule_snooze": lambda: rule.snoozed_until is not None,
        "rule_delete": lambda: rule is None,
        "rule_edit": lambda: rule.kind == Kind.FAILED,
    }[action]
    assert changed()


def test_members_see_edit_controls_only_on_rules_they_may_change(client, erin, project, bob_rule):
    client.force_login(erin)
    page = client.get(url("rules", project)).content.decode()
    assert "loss high" in page
    assert url("rule_edit", project, bob_rule.key) not in page
    assert "New rule" in page


def test_a_rule_of_another_project_is_404(client, alice, team, project, bob_rule):
    other = ProjectFactory(entity=team, creator=alice, name="other")
    client.force_login(alice)
    assert client.get(url("rule_edit", other, bob_rule.key)).status_code == 404
    assert client.post(url("rule_delete", other, bob_rule.key)).status_code == 404
    assert AlertRule.objects.filter(pk=bob_rule.pk).exists()


@pytest.fixture
def public_project(public_team, alice):
    return ProjectFactory(
        entity=public_team, creator=alice, name="open", visibility=Project.Visibility.PUBLIC
    )


def test_a_public_project_shows_its_alerts_but_not_its_rules(
    client, charlie, alice, public_project
):
    run = RunFactory(project=public_project, author=alice, run_id="pub1")
    rule = AlertRuleFactory(project=public_project, kind=Kind.FAILED, name="failures")
    AlertEvent.objects.create(
        project=public_project, rule=rule, rule_name=rule.name, run=run, message="Run failed."
    )
    for who in (None, charlie):
        if who:
            client.force_login(who)
        history = client.get(url("history", public_project))
        assert history.status_code == 200 and "Run failed." in history.content.decode()
        assert url("rules", public_project) not in history.content.decode()
    assert client.get(url("rules", public_project)).status_code == 403
    assert client.get(url("rule_create", public_project)).status_code == 403
    assert client.post(url("rule_mute", public_project, rule.key)).status_code == 403
    rule.refresh_from_db()
    assert not rule.muted


def test_a_project_named_alerts_keeps_its_pages(client, alice, team):
    project = ProjectFactory(entity=team, creator=alice, name="alerts")
    client.force_login(alice)
    assert client.get(project.get_absolute_url()).status_code == 200
    assert client.get(url("rules", project)).status_code == 200
    assert url("history", project) == f"/{team.name}/alerts/alerts/"


# Test this rule


def test_trying_a_rule_shows_the_run_that_would_fire_and_records_nothing(
    client, bob, project, make_run, log
):
    log(make_run(name="calm-run"), [0.2, 0.1])
    bad = log(make_run(name="diverging-run"), [0.5, 3.5])
    client.force_login(bob)
    data = form_data(Kind.THRESHOLD, {"metric": "loss", "threshold": 1, "comparison": ">"})
    response = client.post(url("rule_try", project), data)
    assert response.status_code == 200
    trials = response.context["trials"]
    assert [trial.run for trial in trials] == [bad]
    page = response.content.decode()
    trial = page[page.index('id="rule-trial"') :]
    assert "diverging-run" in trial and "calm-run" not in trial
    assert "loss is 3.5, above 1" in page
    assert not AlertRule.objects.exists()
    assert not AlertEvent.objects.exists() and not RuleRunState.objects.exists()


def test_trying_through_htmx_answers_the_form_partial(client, bob, project, make_run, log):
    log(make_run(name="diverging-run"), [3.5])
    client.force_login(bob)
    data = form_data(Kind.THRESHOLD, {"metric": "loss", "threshold": 1})
    response = client.post(url("rule_try", project), data, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="rule-form-region">')
    assert "<html" not in page and "diverging-run" in page


def test_trying_an_incomplete_rule_shows_the_errors(client, bob, project):
    client.force_login(bob)
    response = client.post(url("rule_try", project), form_data(Kind.THRESHOLD, {}))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"metric", "threshold"}
    assert response.context["trials"] is None


def test_trying_a_rule_that_fires_on_nothing_says_so(client, bob, project, make_run, log):
    log(make_run(), [0.1])
    client.force_login(bob)
    data = form_data(Kind.THRESHOLD, {"metric": "loss", "threshold": 1})
    response = client.post(url("rule_try", project), data)
    assert "It would fire on none" in response.content.decode()


# History


@pytest.fixture
def fired(project, make_run, bob_rule):
    """fired(n): n alerts of bob's rule, each on a run of its own, newest last."""

    def fire(count, rule=None):
        start = timezone.now() - timedelta(hours=1)
        return [
            AlertEvent.objects.create(
                project=project,
                rule=rule or bob_rule,
                rule_name=(rule or bob_rule).name,
                run=make_run(name=f"run-{index}"),
                value=index,
                message=f"loss is {index}",
                fired_at=start + timedelta(seconds=index),
            )
            for index in range(count)
        ]

    return fire


def test_the_history_lists_alerts_newest_first_with_links(client, bob, project, fired):
    events = fired(3)
    client.force_login(bob)
    response = client.get(url("history", project))
    assert [event.pk for event in response.context["page"]] == [e.pk for e in reversed(events)]
    page = response.content.decode()
    assert events[2].run.get_absolute_url() in page
    assert page.index("loss is 2") < page.index("loss is 0")


def test_the_history_is_paginated(client, bob, project, fired):
    fired(55)
    client.force_login(bob)
    first = client.get(url("history", project))
    assert len(first.context["page"]) == 50 and 'rel="next"' in first.content.decode()
    second = client.get(url("history", project), {"page": 2})
    assert [event.message for event in second.context["page"]] == [
        f"loss is {index}" for index in range(4, -1, -1)
    ]


def test_the_history_filters_by_rule(client, bob, project, fired):
    other = AlertRuleFactory(project=project, kind=Kind.FAILED, name="failures", created_by=bob)
    fired(2)
    (failure,) = fired(1, rule=other)
    client.force_login(bob)
    response = client.get(url("history", project), {"rule": other.key})
    assert list(response.context["page"]) == [failure]
    # An unknown rule is not an error: the filter is ignored.
    response = client.get(url("history", project), {"rule": "nope"})
    assert response.status_code == 200 and len(response.context["page"]) == 3


@pytest.mark.parametrize("count", [2, 30])
def test_the_history_costs_the_same_queries_whatever_its_size(
    client, bob, project, fired, count, django_assert_num_queries
):
    for event in fired(count):
        AlertDelivery.objects.create(event=event, channel="email", target="bob@example.com")
    client.force_login(bob)
    client.get(url("history", project))  # the session and permission caches settle
    # session, user, project, permissions, rule choices, count, page, its deliveries
    with django_assert_num_queries(8):
        response = client.get(url("history", project))
    assert len(response.context["page"]) == count


@pytest.mark.parametrize("count", [2, 20])
def test_the_rules_list_costs_the_same_queries_whatever_its_size(
    client, bob, project, count, django_assert_num_queries
):
    for index in range(count):
        AlertRuleFactory(project=project, kind=Kind.FAILED, name=f"r{index}", created_by=bob)
    client.force_login(bob)
    client.get(url("rules", project))
    with django_assert_num_queries(5):
        response = client.get(url("rules", project))
    assert len(response.context["rows"]) == count


def test_the_history_shows_how_each_delivery_went_but_not_to_whom(client, bob, project, fired):
    sent, failed = fired(2)
    Status = AlertDelivery.Status
    AlertDelivery.objects.create(
        event=sent, channel="email", target="bob@example.com", status=Status.SENT
    )
    AlertDelivery.objects.create(
        event=failed, channel="email", target="bob@example.com", status=Status.FAILED
    )
    client.force_login(bob)

    page = client.get(url("history", project)).content.decode()

    assert "Email: sent" in page and "Email: failed" in page
    assert "bob@example.com" not in page


def test_the_history_filters_by_run_and_by_run_alert(client, bob, project, fired, alice):
    run = fired(1)[0].run
    other = RunFactory(project=project, author=alice, run_id="other-run")
    client_alert_raise(actor=alice, run=other, title="Loss diverged", text="nan", level="ERROR")
    client.force_login(bob)

    by_run = client.get(url("history", project), {"run": "other-run"})
    assert [event.run for event in by_run.context["page"]] == [other]
    client_only = client.get(url("history", project), {"rule": "client"})
    [event] = client_only.context["page"]
    assert (event.source_name, event.message, event.detail) == (
        "run.alert()",
        "Loss diverged",
        "nan",
    )
    assert "Loss diverged" in client_only.content.decode()
    # The run page links to its alerts, the rules' included.
    run_page = client.get(run.get_absolute_url()).content.decode()
    assert f"{url('history', project)}?run={run.run_id}" in run_page
