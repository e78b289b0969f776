"""When a rule may fire: cooldown, mutes and snoozes, scope; failures at ingestion; crashes
and stalls by the periodic job; at most once even when two workers evaluate at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from alerts.evaluation import Decision
from alerts.models import AlertEvent, AlertRule, RuleRunState
from alerts.services import alert_record, evaluate_after_ingest, evaluate_periodic
from runs.ingest import apply_file_stream, parse_file_stream
from runs.models import Run

from .factories import AlertRuleFactory

Kind = AlertRule.Kind


def threshold_rule(project, **fields):
    return AlertRuleFactory(project=project, kind=Kind.THRESHOLD, threshold=1, **fields)


def test_fires_again_only_after_the_cooldown(project, run, log, later):
    threshold_rule(project, cooldown=600)
    log(run, [2.0])
    assert len(evaluate_after_ingest(run, ["loss"])) == 1
    assert evaluate_after_ingest(run, ["loss"], now=later(9)) == []
    assert len(evaluate_after_ingest(run, ["loss"], now=later(11))) == 1
    assert evaluate_after_ingest(run, ["loss"], now=later(12)) == []
    assert AlertEvent.objects.filter(run=run).count() == 2


def test_cooldown_is_per_run_and_per_rule(project, make_run, log):
    first, second = threshold_rule(project), threshold_rule(project, name="other")
    runs = [log(make_run(), [5.0]) for _ in range(2)]
    for run in runs:
        assert {event.rule for event in evaluate_after_ingest(run, ["loss"])} == {first, second}
    assert RuleRunState.objects.count() == 4


def test_muted_rule_never_fires(project, run, log):
    threshold_rule(project, muted=True)
    assert evaluate_after_ingest(log(run, [5.0]), ["loss"]) == []


def test_snoozed_rule_fires_once_the_snooze_ends(project, run, log, later):
    threshold_rule(project, snoozed_until=later(30))
    log(run, [5.0])
    assert evaluate_after_ingest(run, ["loss"]) == []
    assert evaluate_after_ingest(run, ["loss"], now=later(29)) == []
    assert len(evaluate_after_ingest(run, ["loss"], now=later(31))) == 1


def test_scope_query_leaves_out_runs_outside_it(project, make_run, log):
    threshold_rule(project, scope='config.model = "resnet50" and tags has "nightly"')
    outside = [
        make_run(config={"model": "resnet50"}, tags=["weekly"]),
        make_run(config={"model": "vit"}, tags=["nightly"]),
        make_run(),
    ]
    for run in outside:
        assert evaluate_after_ingest(log(run, [5.0]), ["loss"]) == []
    inside = log(make_run(config={"model": "resnet50"}, tags=["nightly", "gpu"]), [5.0])
    assert [event.run for event in evaluate_after_ingest(inside, ["loss"])] == [inside]


def test_rules_of_other_projects_do_not_fire(team, alice, run, log):
    from tests.factories import ProjectFactory

    threshold_rule(ProjectFactory(entity=team, creator=alice, name="other"))
    assert evaluate_after_ingest(log(run, [5.0]), ["loss"]) == []


def test_a_deleted_rule_leaves_its_alerts(project, run, log):
    rule = threshold_rule(project, name="loss too high")
    [event] = evaluate_after_ingest(log(run, [5.0]), ["loss"])
    rule.delete()
    event.refresh_from_db()
    assert (event.rule, event.rule_name, event.run) == (None, "loss too high", run)


# The run's state


def test_failed_run_fires_once_when_its_last_chunk_is_stored(project, run, log):
    AlertRuleFactory(project=project, kind=Kind.FAILED, metric="")
    assert evaluate_after_ingest(log(run, [1.0]), ["loss"]) == []
    log(run, [], complete=True, exitcode=3)
    assert run.state == Run.State.FAILED
    [event] = evaluate_after_ingest(run, [])
    assert (event.value, event.message) == (3, f"Run {run.name} failed (exit code 3).")
    # Even after the cooldown: one failure, one alert.
    assert evaluate_after_ingest(run, [], now=timezone.now() + timedelta(days=2)) == []


def test_finished_run_does_not_fire_failure_rules(project, run, log):
    AlertRuleFactory(project=project, kind=Kind.FAILED, metric="")
    log(run, [1.0], complete=True, exitcode=0)
    assert evaluate_after_ingest(run, ["loss"]) == []


def test_crashed_runs_are_reported_once_by_the_periodic_job(project, make_run, later):
    AlertRuleFactory(project=project, kind=Kind.CRASHED, metric="", cooldown=60)
    crashed = make_run(state="crashed", heartbeat_at=timezone.now() - timedelta(minutes=10))
    make_run(state="crashed", heartbeat_at=timezone.now() - timedelta(days=3))  # long ago
    make_run(state="running")
    make_run(state="failed")
    [event] = evaluate_periodic()
    assert event.run == crashed
    assert event.message == f"Run {crashed.name} crashed: it stopped sending heartbeats."
    assert evaluate_periodic(now=later(30)) == []  # the same crash
    # It came back, then crashed again: a new crash.
    Run.objects.filter(pk=crashed.pk).update(heartbeat_at=later(40))
    assert [event.run for event in evaluate_periodic(now=later(60))] == [crashed]


def test_stalled_runs_are_reported_once_per_stall(project, make_run, later):
    AlertRuleFactory(project=project, kind=Kind.STALLED, metric="", stall_minutes=15, cooldown=60)
    now = timezone.now()
    quiet = make_run(heartbeat_at=now - timedelta(minutes=20))
    marked_crashed = make_run(state="crashed", heartbeat_at=now - timedelta(minutes=40))
    talking = make_run(heartbeat_at=now - timedelta(minutes=5))
    make_run(state="finished", heartbeat_at=now - timedelta(minutes=30))
    make_run(heartbeat_at=now - timedelta(days=3))  # long dead
    fired = evaluate_periodic(now=now)
    assert {event.run for event in fired} == {quiet, marked_crashed}
    assert "stalled: nothing received for 20 minutes (rule: 15)" in (
        next(event for event in fired if event.run == quiet).message
    )
    assert evaluate_periodic(now=later(5)) == []
    Run.objects.filter(pk=quiet.pk).update(heartbeat_at=later(10))  # it spoke, then went quiet
    # 16 minutes after its new heartbeat; the run that was talking is now 31 minutes quiet.
    assert {event.run for event in evaluate_periodic(now=later(26))} == {quiet, talking}


def test_a_run_that_heartbeats_but_logs_no_new_history_stalls_by_history(
    project, make_run, log, later
):
    by_history = AlertRuleFactory(
        project=project,
        kind=Kind.STALLED,
        metric="",
        stall_minutes=15,
        stall_signal=AlertRule.StallSignal.HISTORY,
        cooldown=60,
    )
    by_heartbeat = AlertRuleFactory(
        project=project, kind=Kind.STALLED, metric="", stall_minutes=15, name="heartbeat"
    )
    hung = log(make_run(), [1.0, 0.9])
    assert hung.history_at is not None
    moving = log(make_run(), [1.0])
    # A replayed chunk and a chunk of console output are not new history.
    Run.objects.filter(pk=hung.pk).update(history_at=timezone.now() - timedelta(minutes=20))
    hung.refresh_from_db()
    first_quiet = hung.history_at
    apply_file_stream(
        hung,
        parse_file_stream(
            {
                "files": {
                    "wandb-history.jsonl": {"offset": 0, "content": ['{"_step": 0, "loss": 1.0}']},
                    "output.log": {"offset": 0, "content": ["epoch 3"]},
                }
            }
        ),
    )
    hung.refresh_from_db()
    assert hung.history_at == first_quiet and hung.heartbeat_at > first_quiet

    # Only the hung run, and only by history: its process still sends heartbeats.
    [event] = evaluate_periodic()
    assert (event.rule, event.run) == (by_history, hung)
    assert "stalled: no new history for 20 minutes (rule: 15)" in event.message
    assert evaluate_periodic(now=later(5)) == []  # the same stall
    # It moves again, then stops: a new stall. A finished run never stalls.
    log(hung, [0.8])
    Run.objects.filter(pk=moving.pk).update(state=Run.State.FINISHED)
    fired = evaluate_periodic(now=later(16))
    assert {(event.rule, event.run) for event in fired} == {
        (by_history, hung),
        (by_heartbeat, hung),
    }


def test_periodic_rules_respect_scope_and_mutes(project, make_run):
    stalled = AlertRuleFactory(
        project=project, kind=Kind.STALLED, metric="", stall_minutes=1, scope='group = "a"'
    )
    AlertRuleFactory(project=project, kind=Kind.CRASHED, metric="", muted=True)
    quiet = timezone.now() - timedelta(minutes=5)
    make_run(group="b", heartbeat_at=quiet)
    crashed = make_run(group="a", state="crashed", heartbeat_at=quiet)
    running = make_run(group="a", heartbeat_at=quiet)
    fired = evaluate_periodic()
    assert {(event.rule, event.run) for event in fired} == {(stalled, crashed), (stalled, running)}


# Concurrency


def race(rule, run, at, workers=4) -> list:
    """alert_record from `workers` threads (each its own connection) at the same moment."""
    start = threading.Barrier(workers)
    results = []

    def worker():
        try:
            start.wait()
            results.append(alert_record(rule=rule, run=run, decision=Decision(2.0, "x"), now=at))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_workers_racing_record_a_firing_once(team, alice):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one transaction at a time")
    from tests.factories import ProjectFactory, RunFactory

    project = ProjectFactory(entity=team, creator=alice, name="race")
    run = RunFactory(project=project)
    rule = threshold_rule(project, cooldown=600)
    now = timezone.now()
    # The first firing (an INSERT each), then one after the cooldown (a conditional UPDATE).
    for attempt, at in enumerate([now, now + timedelta(minutes=11)], start=1):
        results = race(rule, run, at)
        assert len(results) == 4
        assert sum(event is not None for event in results) == 1
        assert AlertEvent.objects.filter(rule=rule).count() == attempt


@pytest.mark.parametrize(
    ("scope", "fires"),
    [
        ('author = "alice"', True),
        ('author = "bob"', False),
        ('state = "running" and name ~ "^name-"', True),
        ("not config.lr < 0.1", False),
        ("config.lr < 0.1 or summary.best exists", True),
    ],
)
def test_scopes_on_run_fields_and_keys_are_tested_on_the_run(project, make_run, log, scope, fires):
    threshold_rule(project, scope=scope)
    run = log(make_run(config={"lr": 0.01}), [5.0])
    assert len(evaluate_after_ingest(run, ["loss"])) == fires
