"""Sweep services: creation and validation, the state table, handing out points, run caps,
FINISHED detection, the agent timeout, and linking runs."""

import pytest

from sweeps import selectors, services
from sweeps.models import Sweep, SweepAgent, SweepRun
from sweeps.services import SweepError
from teams.access import Need
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db

S = Sweep.State
ALL_RIGHTS = {Need.VIEW, Need.WRITE, Need.ADMIN}
MEMBER_RIGHTS = {Need.VIEW, Need.WRITE}


def beat(agent, *running, actor=None):
    return services.heartbeat(
        actor=actor or agent.author, agent=agent, run_states=dict.fromkeys(running, True)
    )


def run_command(commands):
    assert len(commands) == 1 and commands[0]["type"] == "run", commands
    return commands[0]


# Creation


def test_create_stores_the_config_and_what_the_server_reads_from_it(make_sweep, bob):
    sweep = make_sweep(display_name="lr search", description="first try")
    assert len(sweep.name) == 8 and sweep.name.isalnum()
    assert sweep.state == S.PENDING
    assert (sweep.method, sweep.grid_size, sweep.metric_name, sweep.metric_goal) == (
        "grid",
        6,
        "loss",
        "minimize",
    )
    assert sweep.author == bob
    assert sweep.config["parameters"]["lr"] == {"values": [0.1, 0.01]}
    assert sweep.config_yaml.startswith("method: grid")


def test_create_lists_every_problem_of_a_bad_config(make_sweep):
    config = "method: bayes\nparameters:\n  lr:\n    min: 0.0\n    max: 1.0\n"
    with pytest.raises(SweepError) as refused:
        make_sweep(config)
    assert refused.value.status == 400
    assert str(refused.value) == (
        "Invalid sweep config: 1) Bayes search needs a `metric` with a `name` to optimise."
    )
    assert not Sweep.objects.exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("method: [grid", "Invalid sweep config: the YAML does not parse"),
        ("- a\n- b\n", "Invalid sweep config: 1) The sweep config must be a mapping"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{b}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n"
                for a, b in zip("abcde", "bcdef", strict=True)
            ),
            "Invalid sweep config: it has more than 100000 values.",
        ),
    ],
)
def test_create_refuses_text_that_is_no_config(make_sweep, text, message):
    with pytest.raises(SweepError, match=message.replace(")", r"\)")):
        make_sweep(text)


def test_yaml_dates_are_stored_as_text(make_sweep):
    sweep = make_sweep("method: grid\nparameters:\n  day:\n    values: [2024-01-01, 2024-02-01]\n")
    assert sweep.config["parameters"]["day"]["values"] == ["2024-01-01", "2024-02-01"]
    assert sweep.grid_size == 2


def test_outsider_cannot_create_a_sweep(make_sweep, charlie):
    with pytest.raises(SweepError) as refused:
        make_sweep(actor=charlie)
    assert refused.value.status == 403
    assert not Sweep.objects.exists()


def test_create_with_prior_runs_covers_their_grid_points(make_sweep, project):
    RunFactory(project=project, run_id="old1", config={"lr": 0.1, "layers": 2})
    RunFactory(project=project, run_id="old2", config={"lr": 0.5, "layers": 2})
    sweep = make_sweep(prior_run_ids=["old1", "old2"])
    slots = {s.run_name: s for s in sweep.slots.all()}
    # Grid order: parameters sorted by name, the last varying fastest (layers, then lr).
    assert slots["old1"].kind == SweepRun.Kind.PRIOR and slots["old1"].point_index == 2
    assert slots["old2"].point_index is None
    assert selectors.sweep_runs(sweep).count() == 2


# State table


@pytest.mark.parametrize(
    "start, target, result",
    [
        (S.PENDING, S.PAUSED, S.PAUSED),
        (S.RUNNING, S.PAUSED, S.PAUSED),
        (S.PAUSED, S.RUNNING, S.RUNNING),
        (S.RUNNING, S.FINISHED, S.FINISHED),
        (S.PAUSED, S.CANCELED, S.CANCELED),
        (S.FINISHED, S.RUNNING, S.RUNNING),
        (S.CANCELED, S.PENDING, S.PENDING),
        (S.FINISHED, S.PAUSED, "Cannot pause a finished sweep."),
        (S.CANCELED, S.FINISHED, "Cannot stop a canceled sweep."),
        (S.FINISHED, S.CANCELED, "Cannot cancel a finished sweep."),
        (S.RUNNING, S.PENDING, "Cannot set a running sweep back to pending."),
        (S.RUNNING, S.FAILED, "A sweep's state cannot be set to FAILED."),
        (S.RUNNING, "DONE", "Unknown sweep state 'DONE'"),
    ],
)
def test_state_table(make_sweep, bob, start, target, result):
    sweep = make_sweep()
    Sweep.objects.filter(pk=sweep.pk).update(state=start)
    sweep.refresh_from_db()
    if result in S.values:
        services.sweep_update(actor=bob, sweep=sweep, rights=MEMBER_RIGHTS, state=target)
        sweep.refresh_from_db()
        assert sweep.state == result
    else:
        with pytest.raises(SweepError, match=result) as refused:
            services.sweep_update(actor=bob, sweep=sweep, rights=MEMBER_RIGHTS, state=target)
        assert refused.value.status == 400
        sweep.refresh_from_db()
        assert sweep.state == start


def test_only_author_or_admin_changes_the_state(make_sweep, alice, bob, team):
    sweep = make_sweep(actor=alice)
    with pytest.raises(SweepError) as refused:
        services.sweep_update(actor=bob, sweep=sweep, rights=MEMBER_RIGHTS, state=S.PAUSED)
    assert refused.value.status == 403
    services.sweep_update(actor=bob, sweep=sweep, rights=MEMBER_RIGHTS, display_name="renamed")
    sweep.refresh_from_db()
    assert (sweep.state, sweep.display_name) == (S.PENDING, "renamed")
    mine = make_sweep(actor=bob)
    services.sweep_update(actor=alice, sweep=mine, rights=ALL_RIGHTS, state=S.PAUSED)
    mine.refresh_from_db()
    assert mine.state == S.PAUSED


def test_viewer_cannot_change_a_sweep(make_sweep, bob):
    sweep = make_sweep()
    with pytest.raises(SweepError) as refused:
        services.sweep_update(actor=bob, sweep=sweep, rights={Need.VIEW}, display_name="x")
    assert refused.value.status == 403


def test_resume_of_a_finished_grid_without_points_is_refused(make_sweep, bob):
    sweep = make_sweep()
    Sweep.objects.filter(pk=sweep.pk).update(state=S.FINISHED, grid_cursor=6)
    sweep.refresh_from_db()
    with pytest.raises(SweepError, match="it has no points left"):
        services.sweep_update(actor=bob, sweep=sweep, rights=MEMBER_RIGHTS, state=S.RUNNING)


def test_cancel_flags_the_live_runs_and_agents_exit(make_sweep, bob):
    sweep = make_sweep()
    agent = services.agent_create(actor=bob, sweep=sweep, host="gpu1")
    run_id = run_command(beat(agent))["run_id"]
    services.sweep_update(actor=bob, sweep=sweep, rights=MEMBER_RIGHTS, state=S.CANCELED)
    slot = sweep.slots.get(run_name=run_id)
    assert slot.should_stop and slot.stop_reason == "canceled"
    assert beat(agent, run_id) == [{"type": "exit"}]
    agent.refresh_from_db()
    assert agent.state == SweepAgent.State.FINISHED


def test_config_update_remaps_grid_points(make_sweep, bob):
    sweep = make_sweep()
    agent = services.agent_create(actor=bob, sweep=sweep, host="gpu1")
    first = run_command(beat(agent))
    assert first["args"] == {"layers": {"value": 1}, "lr": {"value": 0.1}}
    bigger = sweep.config_yaml.replace("values: [1, 2, 3]", "values: [0, 1, 2, 3]")
    services.sweep_update(actor=bob, sweep=sweep, rights=MEMBER_RIGHTS, config_yaml=bigger)
    sweep.refresh_from_db()
    assert sweep.grid_size == 8 and sweep.grid_cursor == 0
    assert sweep.slots.get(run_name=first["run_id"]).point_index == 2
    second = run_command(beat(agent))
    assert second["args"] == {"layers": {"value": 0}, "lr": {"value": 0.1}}
