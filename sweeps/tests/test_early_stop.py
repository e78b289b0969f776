"""Hyperband: the running runs behind their band's threshold get a stop, through the agent's
heartbeat, once per check interval."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.periodic import JOBS
from runs.models import MetricKey, Point, Run
from sweeps import early_stop, engine, services
from sweeps.models import Sweep, SweepRun
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db

HYPERBAND = """\
method: grid
metric:
  name: loss
  goal: minimize
early_terminate:
  type: hyperband
  max_iter: 5
  eta: 2
  s: 2
parameters:
  a:
    values: [1, 2, 3, 4, 5, 6]
"""

# Bands at steps 2 and 4; thresholds from the runs that reached them: 8, then 7.
HISTORIES = {
    "a": ("finished", "DONE", [10, 9]),
    "b": ("running", "RUNNING", [10, 10]),
    "c": ("running", "RUNNING", [10, 8, 8]),
    "d": ("running", "RUNNING", [10, 7, 7]),
    "e": ("finished", "DONE", [10, 6, 6]),
}


@pytest.fixture
def sweep(make_sweep, project, bob):
    sweep = make_sweep(HYPERBAND)
    Sweep.objects.filter(pk=sweep.pk).update(state=Sweep.State.RUNNING)
    sweep.refresh_from_db()
    agent = services.agent_create(actor=bob, sweep=sweep, host="h")
    key, _ = MetricKey.objects.get_or_create(stream=MetricKey.Stream.HISTORY, name="loss")
    for name, (run_state, slot_state, values) in HISTORIES.items():
        run = RunFactory(project=project, run_id=name, state=run_state)
        SweepRun.objects.create(
            sweep=sweep, run=run, run_name=name, agent=agent, state=slot_state, params={}
        )
        Point.objects.bulk_create(
            Point(run=run, key=key, step=step, value=value) for step, value in enumerate(values)
        )
    return sweep


def test_hyperband_flags_the_runs_behind_their_band(sweep):
    assert early_stop.evaluate_early_stop(sweep.pk) == 2
    flagged = sweep.slots.filter(should_stop=True)
    assert sorted(flagged.values_list("run_name", flat=True)) == ["b", "c"]
    slot = flagged.get(run_name="b")
    assert slot.stop_reason == "hyperband" and slot.stop_info["thresholds"] == [8, 7]
    assert early_stop.evaluate_early_stop(sweep.pk) == 0


def test_heartbeat_triggers_the_check_and_relays_the_stop(
    sweep, django_capture_on_commit_callbacks
):
    agent = sweep.agents.get()
    with django_capture_on_commit_callbacks(execute=True):
        commands = services.heartbeat(actor=agent.author, agent=agent, run_states={"b": True})
    # This beat claimed the check; the task flagged b after it answered.
    assert commands == []
    assert services.heartbeat(actor=agent.author, agent=agent, run_states={"b": True}) == [
        {"type": "stop", "run_id": "b"}
    ]
    sweep.refresh_from_db()
    assert sweep.early_stop_checked_at is not None
    # Claimed once per interval.
    assert not early_stop.claim(sweep, sweep.early_stop_checked_at + timedelta(seconds=5))
    assert early_stop.claim(sweep, sweep.early_stop_checked_at + timedelta(seconds=16))


def test_periodic_job_evaluates_due_sweeps(sweep):
    Sweep.objects.filter(pk=sweep.pk).update(
        early_stop_checked_at=timezone.now() - timedelta(minutes=5)
    )
    job = next(job for job in JOBS if job.name == "evaluate_sweep_early_stop")
    assert job.run() == 2
    assert job.run() == 0


def test_runs_deleted_to_the_trash_set_no_threshold(sweep, monkeypatch):
    Run.objects.filter(run_id="e").update(trashed_at=timezone.now())
    seen = []
    to_stop = engine.to_stop
    monkeypatch.setattr(
        engine, "to_stop", lambda config, runs: seen.append(runs) or to_stop(config, runs)
    )

    early_stop.evaluate_early_stop(sweep.pk)

    assert sorted(run["name"] for run in seen[0]) == ["a", "b", "c", "d"]
