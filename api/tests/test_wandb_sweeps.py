"""Sweeps with the unmodified wandb command line against a live Teamsite: `wandb sweep` creates
the sweep, `wandb agent` asks the server for points, starts the training program for each and
exits when the grid is done. Slow (the agent polls every 5 seconds): about 30 s per test."""

import subprocess
import sys

import pytest
import yaml

from runs.models import Run
from sweeps.models import Sweep
from tests.factories import api_key_for
from tests.wandb_client import SCRIPTS, WandbClient

pytestmark = pytest.mark.django_db(transaction=True)

AGENT_TIMEOUT = 240


@pytest.fixture
def wandb_cli(live_server, tmp_path):
    return WandbClient(live_server.url, tmp_path)


def write_config(cli, layers):
    config = {
        "program": str(SCRIPTS / "sweep_train.py"),
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.1, 0.01]}, "layers": {"values": layers}},
        # The child runs with the interpreter that has wandb installed.
        "command": ["${env}", sys.executable, "${program}", "${args}"],
    }
    path = cli.work / "sweep.yaml"
    path.write_text(yaml.dump(config))
    return path


def finish(process):
    try:
        output, _ = process.communicate(timeout=AGENT_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"wandb did not exit in time:\n{output[-5000:]}")
    return output


def create_sweep(cli, key, layers):
    config = write_config(cli, layers)
    process = cli.cli(
        "sweep", "--entity", "example-team", "--project", "tune", str(config), key=key
    )
    output = finish(process)
    assert process.returncode == 0, output[-5000:]
    sweep = Sweep.objects.select_related("project__entity").get()
    assert sweep.name in output  # the id the client printed
    return sweep


def agent(cli, key, sweep):
    return cli.cli("agent", f"example-team/tune/{sweep.name}", key=key)


def sweep_points(sweep):
    runs = Run.objects.filter(sweep_link__sweep=sweep)
    return [(run.config["lr"], run.config["layers"], run.state) for run in runs]


def test_an_agent_runs_every_point_of_a_grid_once(wandb_cli, team, alice):
    key = api_key_for(alice)
    sweep = create_sweep(wandb_cli, key, [1, 2])

    process = agent(wandb_cli, key, sweep)
    output = finish(process)

    assert process.returncode == 0, output[-5000:]
    points = sweep_points(sweep)
    assert sorted(points) == [
        (0.01, 1, "finished"),
        (0.01, 2, "finished"),
        (0.1, 1, "finished"),
        (0.1, 2, "finished"),
    ]
    sweep.refresh_from_db()
    assert sweep.state == Sweep.State.FINISHED
    run = Run.objects.filter(sweep_link__sweep=sweep).first()
    assert run.author == alice and run.project == sweep.project
    assert run.summary["loss"] == pytest.approx(run.config["lr"] * run.config["layers"] / 3)


def test_two_agents_share_a_grid_without_running_a_point_twice(wandb_cli, team, alice, bob):
    sweep = create_sweep(wandb_cli, api_key_for(alice), [1, 2, 3])

    processes = [agent(wandb_cli, api_key_for(user), sweep) for user in (alice, bob)]
    outputs = [finish(process) for process in processes]

    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-5000:]
    points = sweep_points(sweep)
    assert len(points) == 6
    assert {(lr, layers) for lr, layers, _ in points} == {
        (lr, layers) for lr in (0.1, 0.01) for layers in (1, 2, 3)
    }
    assert {state for *_, state in points} == {"finished"}
    assert sweep.agents.count() == 2
    sweep.refresh_from_db()
    assert sweep.state == Sweep.State.FINISHED
