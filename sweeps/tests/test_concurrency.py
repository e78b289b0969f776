"""Two agents beating at once on separate connections never get the same grid point (the
sweep row lock on PostgreSQL, IMMEDIATE transactions on SQLite, the partial unique
constraint behind both)."""

import threading

import pytest
from django.db import connection

from sweeps import services
from sweeps.models import Sweep

EXIT = [{"type": "exit"}]


@pytest.mark.django_db(transaction=True)
def test_two_agents_draining_a_grid_never_share_a_point(make_sweep, bob):
    sweep = make_sweep()
    agents = [services.agent_create(actor=bob, sweep=sweep, host=f"h{i}") for i in range(2)]
    handed = {agent.pk: [] for agent in agents}
    errors = []
    start = threading.Barrier(len(agents))

    def drain(agent):
        try:
            start.wait()
            for _ in range(40):
                commands = services.heartbeat(actor=bob, agent=agent, run_states={})
                if commands == EXIT:
                    return
                if commands:
                    assert commands[0]["type"] == "run", commands
                    handed[agent.pk].append(commands[0])
                    # One beat while the run runs, so the agents' handouts interleave.
                    running = {commands[0]["run_id"]: True}
                    assert services.heartbeat(actor=bob, agent=agent, run_states=running) == []
        except Exception as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    commands = [command for batch in handed.values() for command in batch]
    points = sorted(repr(sorted(c["args"].items())) for c in commands)
    assert len(commands) == 6
    assert all(handed.values()), "both agents got points"
    assert len(set(points)) == 6
    assert len({c["run_id"] for c in commands}) == 6
    sweep.refresh_from_db()
    assert sweep.state == Sweep.State.FINISHED
    assert sorted(sweep.slots.values_list("point_index", flat=True)) == list(range(6))
