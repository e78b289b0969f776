"""Heartbeats: the order points are handed out in, run caps, when a sweep is FINISHED, the
agent timeout, stops, linking runs, and the fast path's query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.periodic import JOBS
from runs.models import Run
from sweeps import engine, selectors, services
from sweeps.models import Sweep, SweepAgent, SweepRun
from sweeps.services import SweepError
from teams.access import Need
from tests.factories import RunFactory

from .conftest import RANDOM

pytestmark = pytest.mark.django_db

S = Sweep.State
EXIT = [{"type": "exit"}]


def beat(agent, *running):
    return services.heartbeat(
        actor=agent.author, agent=agent, run_states=dict.fromkeys(running, True)
    )


def run_command(commands):
    assert len(commands) == 1 and commands[0]["type"] == "run", commands
    return commands[0]


@pytest.fixture
def grid(make_sweep):
    return make_sweep()


@pytest.fixture
def agent(grid, bob):
    return services.agent_create(actor=bob, sweep=grid, host="gpu1")


def drain(agent):
    """Run the sweep to its end with one agent: each run ends before the next beat."""
    handed = []
    while (commands := beat(agent)) != EXIT:
        handed.append(run_command(commands))
        assert len(handed) < 50
    return handed


def test_grid_points_are_handed_out_in_the_engines_order(grid, agent):
    handed = drain(agent)
    expected = [engine.grid_point(grid.config, i) for i in range(6)]
    assert [command["args"] for command in handed] == expected
    assert all(command["program"] == "train.py" for command in handed)
    assert len({command["run_id"] for command in handed}) == 6
    grid.refresh_from_db()
    agent.refresh_from_db()
    assert (grid.state, grid.points_issued, agent.state) == (S.FINISHED, 6, "FINISHED")
    assert sorted(grid.slots.values_list("point_index", flat=True)) == list(range(6))


def test_first_handout_moves_the_sweep_to_running(grid, agent):
    command = run_command(beat(agent))
    grid.refresh_from_db()
    assert grid.state == S.RUNNING
    slot = grid.slots.get()
    assert (slot.state, slot.agent, slot.run_name) == ("RESERVED", agent, command["run_id"])
    assert beat(agent, command["run_id"]) == []
    slot.refresh_from_db()
    assert slot.state == "RUNNING"


def test_run_cap_ends_the_sweep(make_sweep, bob):
    sweep = make_sweep(RANDOM + "run_cap: 2\n")
    agent = services.agent_create(actor=bob, sweep=sweep, host="h")
    handed = drain(agent)
    assert len(handed) == 2
    assert all(0.001 <= c["args"]["lr"]["value"] <= 0.1 for c in handed)
    sweep.refresh_from_db()
    assert sweep.state == S.FINISHED


def test_finished_only_when_nothing_is_in_flight(grid, bob):
    agents = [services.agent_create(actor=bob, sweep=grid, host=f"h{i}") for i in range(2)]
    busy = [run_command(beat(a))["run_id"] for a in agents for _ in range(1)]
    # agent 0 finishes runs until the grid is exhausted; agent 1 keeps its first run.
    current = busy[0]
    while (commands := beat(agents[0])) != []:
        current = run_command(commands)["run_id"]
        beat(agents[0], current)  # mark it started; the next beat without it ends it
    grid.refresh_from_db()
    assert grid.state == S.RUNNING  # agent 1 still runs a point
    assert beat(agents[0]) == []
    assert beat(agents[1], busy[1]) == []
    assert beat(agents[1]) == EXIT
    grid.refresh_from_db()
    assert grid.state == S.FINISHED
    assert beat(agents[0]) == EXIT


def test_paused_sweep_hands_out_nothing_and_finished_sweep_lets_runs_finish(grid, agent, bob):
    rights = {Need.VIEW, Need.WRITE}
    services.sweep_update(actor=bob, sweep=grid, rights=rights, state=S.PAUSED)
    assert beat(agent) == []
    services.sweep_update(actor=bob, sweep=grid, rights=rights, state=S.RUNNING)
    run_id = run_command(beat(agent))["run_id"]
    services.sweep_update(actor=bob, sweep=grid, rights=rights, state=S.FINISHED)
    assert beat(agent, run_id) == []
    assert not grid.slots.get(run_name=run_id).should_stop
    assert beat(agent) == EXIT


def test_flagged_run_gets_a_stop_each_beat(grid, agent):
    run_id = run_command(beat(agent))["run_id"]
    grid.slots.filter(run_name=run_id).update(should_stop=True, stop_reason="hyperband")
    stop = [{"type": "stop", "run_id": run_id}]
    assert beat(agent, run_id) == stop
    assert beat(agent, run_id) == stop
    assert run_command(beat(agent))["run_id"] != run_id


def test_heartbeat_refuses_outsiders_and_deleted_agents(grid, agent, charlie):
    with pytest.raises(SweepError) as refused:
        services.heartbeat(actor=charlie, agent=agent, run_states={})
    assert refused.value.status == 403
    assert not grid.slots.exists()
    grid.delete()
    with pytest.raises(SweepError) as gone:
        beat(agent)
    assert gone.value.status == 404


def test_agent_timeout_requeues_the_point_and_crashes_the_run(grid, bob, project, settings):
    settings.SWEEP_AGENT_TIMEOUT = 120
    lost_agent = services.agent_create(actor=bob, sweep=grid, host="dies")
    command = run_command(beat(lost_agent))
    run = RunFactory(project=project, run_id=command["run_id"], state="running")
    services.link_run(run=run, sweep_name=grid.name)
    later = timezone.now() + timedelta(seconds=121)
    SweepAgent.objects.filter(pk=lost_agent.pk).update(heartbeat_at=later - timedelta(seconds=121))
    assert services.release_lost_agents(grid, now=later - timedelta(seconds=60)) == 0
    assert services.release_lost_agents(grid, now=later) == 1
    run.refresh_from_db()
    lost_agent.refresh_from_db()
    assert (run.state, lost_agent.state) == (Run.State.CRASHED, "CRASHED")
    lost = grid.slots.get(run_name=command["run_id"])
    assert (lost.state, lost.should_stop, lost.stop_reason) == ("LOST", True, "agent lost")
    other = services.agent_create(actor=bob, sweep=grid, host="lives")
    again = run_command(beat(other))
    assert again["args"] == command["args"] and again["run_id"] != command["run_id"]
    assert grid.slots.filter(point_index=lost.point_index, state="RESERVED").count() == 1
    # The lost agent comes back still running its run: it must stop it (the point moved on).
    assert beat(lost_agent, command["run_id"]) == [{"type": "stop", "run_id": command["run_id"]}]
    lost_agent.refresh_from_db()
    assert lost_agent.state == "RUNNING"
    grid.refresh_from_db()
    assert grid.points_issued == 1


def test_a_lost_agents_finished_run_is_not_run_again(grid, agent, project):
    command = run_command(beat(agent))
    run = RunFactory(project=project, run_id=command["run_id"], state="running")
    services.link_run(run=run, sweep_name=grid.name)
    Run.objects.filter(pk=run.pk).update(state=Run.State.FINISHED)
    SweepAgent.objects.update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert services.release_lost_agents(grid) == 1
    slot = grid.slots.get()
    assert (slot.state, slot.should_stop) == ("DONE", False)
    run.refresh_from_db()
    assert run.state == Run.State.FINISHED
    other = services.agent_create(actor=agent.author, sweep=grid, host="next")
    assert run_command(beat(other))["args"] != command["args"]


def test_periodic_job_releases_lost_agents(grid, agent):
    run_command(beat(agent))
    SweepAgent.objects.update(heartbeat_at=timezone.now() - timedelta(hours=1))
    job = next(job for job in JOBS if job.name == "release_lost_sweep_agents")
    assert job.run() == 1
    assert grid.slots.filter(state="QUEUED").count() == 1


def test_link_run_fills_the_reserved_slot(grid, agent, project):
    command = run_command(beat(agent))
    run = RunFactory(project=project, run_id=command["run_id"], state="running")
    services.link_run(run=run, sweep_name=grid.name)
    slot = grid.slots.get()
    assert (slot.run, slot.state, slot.kind) == (run, "RUNNING", "AGENT")
    services.link_run(run=run, sweep_name=grid.name)
    assert grid.slots.count() == 1


def test_link_run_without_a_slot_makes_a_manual_one_covering_its_point(grid, agent, project):
    run = RunFactory(
        project=project, run_id="byhand", state="running", config={"lr": 0.1, "layers": 1}
    )
    services.link_run(run=run, sweep_name=grid.name)
    slot = run.sweep_link
    assert (slot.kind, slot.state, slot.point_index, slot.params) == (
        "MANUAL",
        "DONE",
        0,
        {"lr": {"value": 0.1}, "layers": {"value": 1}},
    )
    # The grid skips the point the manual run covers.
    assert run_command(beat(agent))["args"] == engine.grid_point(grid.config, 1)
    twin = RunFactory(
        project=project, run_id="twin", state="finished", config={"lr": 0.1, "layers": 1}
    )
    services.link_run(run=twin, sweep_name=grid.name)
    assert twin.sweep_link.point_index is None and twin.sweep_link.state == "DONE"
    assert selectors.sweep_runs(grid).count() == 2


def test_link_run_ignores_unknown_sweeps(project):
    run = RunFactory(project=project, run_id="r", state="running")
    services.link_run(run=run, sweep_name="nope1234")
    assert not SweepRun.objects.exists()


def test_engine_failure_fails_the_sweep(make_sweep, bob, monkeypatch):
    sweep = make_sweep(RANDOM)
    agent = services.agent_create(actor=bob, sweep=sweep, host="h")

    def broken(config, runs):
        raise ValueError("no luck")

    monkeypatch.setattr(engine, "suggest", broken)
    assert beat(agent) == EXIT
    sweep.refresh_from_db()
    assert sweep.state == S.FAILED and "no luck" in sweep.error


BAYES = "method: bayes\nmetric:\n  name: loss\nparameters:\n  x:\n    min: 0.0\n    max: 1.0\n"


def bayes_runs(sweep, agent, project, losses):
    """One handed-out run per loss, linked to the sweep as the client links it."""
    runs = []
    for loss in losses:
        command = run_command(beat(agent))
        run = RunFactory(project=project, run_id=command["run_id"], summary={"loss": loss})
        services.link_run(run=run, sweep_name=sweep.name)
        runs.append(run)
    return runs


def test_bayes_handout_learns_from_linked_runs(make_sweep, bob, project):
    sweep = make_sweep(BAYES)
    agent = services.agent_create(actor=bob, sweep=sweep, host="h")
    bayes_runs(sweep, agent, project, (3.0, 1.0))
    assert 0.0 <= run_command(beat(agent))["args"]["x"]["value"] <= 1.0
    assert selectors.best_run(sweep).summary == {"loss": 1.0}


def test_local_controller_hands_out_its_schedule(make_sweep, bob):
    sweep = make_sweep(RANDOM + "controller:\n  type: local\n")
    agent = services.agent_create(actor=bob, sweep=sweep, host="h")
    assert beat(agent) == []
    rights = {Need.VIEW, Need.WRITE}
    schedule = {"schedule": [{"id": "s1", "data": {"args": {"lr": {"value": 0.05}}}}]}
    services.sweep_update(actor=bob, sweep=sweep, rights=rights, controller=schedule)
    command = run_command(beat(agent))
    assert command["args"] == {"lr": {"value": 0.05}}
    sweep.refresh_from_db()
    assert sweep.scheduler["scheduled"] == [{"id": "s1", "runid": command["run_id"]}]
    schedule["schedule"].append({"id": "s2", "data": {"args": None}})
    schedule["earlystop"] = [command["run_id"]]
    services.sweep_update(actor=bob, sweep=sweep, rights=rights, controller=schedule)
    assert beat(agent, command["run_id"]) == [{"type": "stop", "run_id": command["run_id"]}]
    assert beat(agent) == EXIT


def test_best_run_follows_the_goal(make_sweep, project):
    sweep = make_sweep(
        RANDOM.replace("method: random", "method: random\nmetric:\n  name: acc\n  goal: maximize")
    )
    for run_id, acc in [("a", 0.5), ("b", 0.9), ("c", "n/a")]:
        run = RunFactory(project=project, run_id=run_id, summary={"acc": acc})
        services.link_run(run=run, sweep_name=sweep.name)
    assert selectors.best_run(sweep).run_id == "b"
    assert list(selectors.project_sweeps(project)) == [sweep]
    assert selectors.sweep_by_name(project, sweep.name) == sweep
    assert selectors.sweep_by_name(project, "missing") is None


@pytest.mark.parametrize("slots", [10, 200])
def test_busy_heartbeat_costs_the_same_queries_whatever_the_sweep_size(
    grid, agent, slots, django_assert_num_queries
):
    SweepRun.objects.bulk_create(
        SweepRun(sweep=grid, run_name=f"old{i}", state="DONE", params={}) for i in range(slots)
    )
    run_id = run_command(beat(agent))["run_id"]
    beat(agent, run_id)
    # user's write right, agent + sweep + project, update agent, its slots.
    with django_assert_num_queries(4):
        assert beat(agent, run_id) == []


def test_idle_heartbeat_costs_the_same_queries_whatever_the_sweep_size(make_sweep, bob):
    counts = []
    for size in (10, 200):
        sweep = make_sweep(RANDOM)
        SweepRun.objects.bulk_create(
            SweepRun(sweep=sweep, run_name=f"old{i}", state="DONE", params={}) for i in range(size)
        )
        agent = services.agent_create(actor=bob, sweep=sweep, host="h")
        run_command(beat(agent))
        with CaptureQueriesContext(connection) as queries:
            run_command(beat(agent))
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 14, counts


def test_a_manual_run_does_not_keep_the_sweep_open(make_sweep, bob, project):
    sweep = make_sweep("method: grid\nparameters:\n  a:\n    values: [1]\n")
    agent = services.agent_create(actor=bob, sweep=sweep, host="h")
    run = RunFactory(project=project, run_id="byhand", state="running", config={"a": 2})
    services.link_run(run=run, sweep_name=sweep.name)
    run_command(beat(agent))
    assert beat(agent) == EXIT
    sweep.refresh_from_db()
    assert sweep.state == S.FINISHED


def test_bayes_leaves_out_runs_deleted_to_the_trash(make_sweep, bob, project, monkeypatch):
    sweep = make_sweep(BAYES)
    agent = services.agent_create(actor=bob, sweep=sweep, host="h")
    _, deleted = bayes_runs(sweep, agent, project, (3.0, 1.0))
    Run.objects.filter(pk=deleted.pk).update(trashed_at=timezone.now())
    seen = []
    suggest = engine.suggest
    monkeypatch.setattr(
        engine, "suggest", lambda config, runs: seen.append(runs) or suggest(config, runs)
    )

    run_command(beat(agent))

    assert [r["summaryMetrics"] for r in seen[0]] == [{"loss": 3.0}]
