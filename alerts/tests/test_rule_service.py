"""Saving a rule checks it; trying a rule shows what it would report and records nothing;
evaluation costs the same number of queries whatever a run's history holds."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import AlertEvent, AlertRule, RuleRunState
from alerts.services import alert_rule_try, evaluate_after_ingest, evaluate_periodic
from runs.models import Run

from .factories import AlertRuleFactory

Kind = AlertRule.Kind


# Checks


def test_a_scope_that_is_not_a_query_is_refused_with_its_position(project):
    rule = AlertRule(project=project, name="r", kind=Kind.THRESHOLD, metric="loss", threshold=1)
    rule.scope = 'config.lr > and tags has "x"'
    with pytest.raises(ValidationError) as error:
        rule.save()
    assert list(error.value.message_dict) == ["scope"]
    assert "at character" in error.value.message_dict["scope"][0]
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": Kind.THRESHOLD}, "threshold"),
        ({"kind": Kind.THRESHOLD, "threshold": 1, "metric": ""}, "metric"),
        ({"kind": Kind.THRESHOLD, "threshold": 1, "window": 0}, "window"),
        ({"kind": Kind.CHANGE, "threshold": 1, "previous_window": 0}, "previous_window"),
        ({"kind": Kind.OUTLIER, "threshold": 0}, "threshold"),
        ({"kind": Kind.OUTLIER, "threshold": 3, "peer_runs": 1}, "peer_runs"),
        ({"kind": Kind.BASELINE, "direction": "higher"}, "baseline_run"),
        ({"kind": Kind.BASELINE, "baseline_alias": "production"}, "baseline_alias"),
        ({"kind": Kind.STALLED, "metric": ""}, "stall_minutes"),
        ({"kind": Kind.BASELINE, "tolerance": -1}, "tolerance"),
    ],
)
def test_an_incomplete_rule_is_refused_naming_the_field(project, fields, field):
    with pytest.raises(ValidationError) as error:
        AlertRuleFactory(project=project, **fields)
    assert field in error.value.message_dict
    assert not AlertRule.objects.exists()


def test_a_baseline_run_of_another_project_is_refused(project, team, alice, make_run):
    from tests.factories import ProjectFactory

    other = make_run(project=ProjectFactory(entity=team, creator=alice, name="other"))
    with pytest.raises(ValidationError) as error:
        AlertRuleFactory(
            project=project, kind=Kind.BASELINE, baseline_run=other, direction="higher"
        )
    assert error.value.message_dict["baseline_run"] == [
        "The baseline run must be in the rule's project."
    ]


# Trying a rule


def test_trying_a_rule_shows_what_would_fire_and_records_nothing(project, make_run, log):
    high = [log(make_run(tags=["nightly"]), [0.5, 3.0]) for _ in range(2)]
    log(make_run(tags=["nightly"]), [0.5, 0.7])
    log(make_run(), [4.0])  # out of scope
    rule = AlertRule(
        project=project,
        name="draft",
        kind=Kind.THRESHOLD,
        metric="loss",
        threshold=2,
        scope='tags has "nightly"',
    )
    trials = alert_rule_try(rule=rule)
    assert [trial.run for trial in trials] == high[::-1]
    assert trials[0].decision.message == "loss is 3, above 2 (step 1)."
    assert rule.pk is None
    assert not AlertEvent.objects.exists() and not RuleRunState.objects.exists()


def test_trying_a_stall_rule_reads_no_history(project, make_run):
    make_run(heartbeat_at=timezone.now() - timedelta(hours=2))
    make_run()
    rule = AlertRule(project=project, name="stall", kind=Kind.STALLED, stall_minutes=60)
    assert len(alert_rule_try(rule=rule)) == 1


def test_trying_an_incomplete_rule_is_refused(project):
    with pytest.raises(ValidationError):
        alert_rule_try(rule=AlertRule(project=project, name="x", kind=Kind.THRESHOLD))


# Query counts


def queries(function, *args, **kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        function(*args, **kwargs)
    return len(captured)


@pytest.mark.parametrize("size", [20, 3000])
def test_evaluation_after_a_chunk_costs_the_same_whatever_the_history(
    project, make_run, log, size, django_assert_num_queries
):
    baseline = make_run(state="finished", summary={"loss": 10.0})
    for loss in [1.0, 2.0, 3.0]:
        make_run(state="finished", summary={"loss": loss}, tags=["nightly"])
    for kind, fields in [
        (Kind.THRESHOLD, {"aggregate": "mean", "window": 50, "threshold": 99}),
        (Kind.CHANGE, {"window": 10, "previous_window": 10, "threshold": 99}),
        (Kind.NONFINITE, {"window": 20}),
        (Kind.BASELINE, {"baseline_run": baseline, "direction": "lower"}),
        (Kind.OUTLIER, {"threshold": 99, "scope": 'tags has "nightly"'}),
        (Kind.THRESHOLD, {"metric": "acc", "threshold": 99, "scope": 'group = "x"'}),
    ]:
        AlertRuleFactory(project=project, kind=kind, **fields)
    run = make_run(group="x", tags=["nightly"])
    log(run, [0.5] * size)
    log(run, [0.5] * size, key="acc")
    # The rules, their scopes on the run, the newest values of loss and of acc, the
    # baseline's value, the outlier's peers.
    with django_assert_num_queries(6):
        assert evaluate_after_ingest(run, ["loss", "acc", "lr"]) == []


@pytest.mark.parametrize("runs", [5, 200])
def test_the_periodic_job_costs_the_same_whatever_the_runs(
    project, make_run, runs, django_assert_num_queries
):
    AlertRuleFactory(project=project, kind=Kind.STALLED, metric="", stall_minutes=10)
    AlertRuleFactory(project=project, kind=Kind.CRASHED, metric="")
    Run.objects.bulk_create(
        Run(project=project, run_id=f"r{i}", state="running", heartbeat_at=timezone.now())
        for i in range(runs)
    )
    with django_assert_num_queries(3):  # the rules, and each rule's runs
        assert evaluate_periodic() == []


def test_a_rule_in_its_cooldown_reads_and_writes_nothing_more(
    project, run, log, django_assert_num_queries
):
    AlertRuleFactory(project=project, kind=Kind.THRESHOLD, threshold=1, scope='group = ""')
    log(run, [5.0])
    assert len(evaluate_after_ingest(run, ["loss"])) == 1
    log(run, [6.0])
    with django_assert_num_queries(1):  # the rules, with when each last fired for the run
        assert evaluate_after_ingest(run, ["loss"]) == []


@pytest.mark.parametrize("runs", [3, 30])
def test_trying_a_rule_costs_a_fixed_number_of_queries_per_run(
    project, make_run, log, runs, django_assert_num_queries
):
    for _ in range(runs):
        log(make_run(), [0.5, 3.0])
    rule = AlertRule(project=project, name="draft", kind=Kind.THRESHOLD, metric="loss", threshold=2)
    # Checking the rule (its project exists), the key, the runs, each run's newest value.
    with django_assert_num_queries(3 + runs):
        assert len(alert_rule_try(rule=rule)) == runs
