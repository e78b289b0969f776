"""Server time of the sweep agent's Heartbeat (GraphQL agentHeartbeat) on a sweep with 10,000
runs and 20 agents: 90 % of the beats come from busy agents reporting their running run, 10 %
from idle agents that are handed the next point of a grid near its end. A standalone script,
not a test: it prints its figures and exits non-zero when the p95 misses its target. See
bench/README.md.

    .venv/bin/python bench/sweep_heartbeat.py                      # SQLite, a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/teamsite_sweepbench \\
        .venv/bin/python bench/sweep_heartbeat.py                  # an empty PostgreSQL database

The database is set up in a child process, because the settings read DATABASE_URL once, at
import; a PostgreSQL database must exist and be empty (createdb).
"""

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SETTINGS_ENV, count_queries, database_label, django_child, percentile

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 50
AGENTS = 20
IDLE_AGENTS = 2  # 10 % of the beats: agents 18 and 19 report no run and get a grid point
WARMUP = 40
BATCH = 5_000
USER, TEAM, PROJECT = "alice", "bench-team", "sweeps"
# A 100 x 101 grid: the runs cover its first 10,000 points, idle agents get the last 100.
GRID_A, GRID_B = 100, 101
HEARTBEAT = """
mutation Heartbeat($id: ID!, $metrics: JSONString, $runState: JSONString) {
    agentHeartbeat(input: {id: $id, metrics: $metrics, runState: $runState}) {
        agent { id }
        commands
    }
}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs linked to the sweep")
    parser.add_argument("--repeat", type=int, default=300, help="timed heartbeats")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-sweep-") as tmp:
        env = {**os.environ, **SETTINGS_ENV, "MEDIA_ROOT": f"{tmp}/media"}
        env.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
        command = [sys.executable, __file__, "--child", *sys.argv[1:]]
        return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode


def child(args):
    django_child()

    from django.core.management import call_command
    from django.db import connection

    if args.runs + args.repeat // 10 + WARMUP > GRID_A * GRID_B:
        sys.exit(f"--runs must leave grid points for the idle agents (at most {GRID_A * GRID_B})")
    print(
        f"sweep heartbeat: {args.runs:,} runs, {AGENTS} agents ({IDLE_AGENTS} idle), "
        f"{args.repeat} timed beats; {database_label(connection)}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    key, agents = create_world(args)
    print(f"  setup: {time.perf_counter() - started:.1f} s")
    return 0 if measure(key, agents, args) else 1


def create_world(args):
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import ApiKey
    from api.graphql.common import node_id
    from projects.services import project_create
    from runs.models import Run
    from sweeps import services as sweeps
    from sweeps.models import Sweep, SweepAgent, SweepRun
    from teams import services

    alice = services.user_create(username=USER, email="alice@example.com")
    team = services.team_create(name=TEAM, creator=alice)
    project = project_create(entity=team, name=PROJECT, creator=alice)
    config = (
        "method: grid\nmetric: {name: loss, goal: minimize}\nparameters:\n"
        f"  a: {{values: {list(range(GRID_A))}}}\n  b: {{values: {list(range(GRID_B))}}}\n"
    )
    sweep = sweeps.sweep_create(actor=alice, project=project, config_yaml=config)
    agents = [
        sweeps.agent_create(actor=alice, sweep=sweep, host=f"host-{i}") for i in range(AGENTS)
    ]
    now = timezone.now()
    SweepAgent.objects.filter(sweep=sweep).update(heartbeat_at=now)
    busy = AGENTS - IDLE_AGENTS
    running = {args.runs - busy + i: agents[i] for i in range(busy)}  # the last runs run
    with transaction.atomic():
        for start in range(0, args.runs, BATCH):
            numbers = range(start, min(start + BATCH, args.runs))
            runs = Run.objects.bulk_create(
                Run(
                    project=project,
                    run_id=f"run{n:06d}",
                    name=f"run-{n}",
                    author=alice,
                    state=Run.State.RUNNING if n in running else Run.State.FINISHED,
                    config={"a": n // GRID_B, "b": n % GRID_B},
                    summary={"loss": 1 / (n + 1)},
                )
                for n in numbers
            )
            SweepRun.objects.bulk_create(
                SweepRun(
                    sweep=sweep,
                    run=run,
                    run_name=run.run_id,
                    agent=running.get(n, agents[n % AGENTS]),
                    state=SweepRun.State.RUNNING if n in running else SweepRun.State.DONE,
                    params={"a": {"value": n // GRID_B}, "b": {"value": n % GRID_B}},
                    point_index=n,
                    handed_at=now,
                    done_at=None if n in running else now,
                )
                for n, run in zip(numbers, runs, strict=True)
            )
        Sweep.objects.filter(pk=sweep.pk).update(
            state=Sweep.State.RUNNING, grid_cursor=args.runs, points_issued=args.runs
        )
    key = ApiKey.create_for(user=alice, label="bench")[1]
    # Beat k comes from agent k % AGENTS: the busy ones report their run, the idle ones none.
    beats = [(node_id("Agent", agent.pk), {f"run{n:06d}": True}) for n, agent in running.items()]
    beats += [(node_id("Agent", agent.pk), None) for agent in agents[busy:]]
    return key, beats


def measure(key, beats, args):
    from django.db import connection
    from django.test import Client

    client = Client()
    headers = {"Authorization": "Basic " + base64.b64encode(f"api:{key}".encode()).decode()}

    def beat(agent_id, run_state):
        variables = {"id": agent_id, "metrics": "{}", "runState": json.dumps(run_state or {})}
        response = client.post(
            "/graphql",
            json.dumps({"query": HEARTBEAT, "variables": variables}),
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert "errors" not in body, body
        commands = json.loads(body["data"]["agentHeartbeat"]["commands"])
        if run_state:
            assert commands == [], commands  # a busy agent goes on
        else:
            assert [c["type"] for c in commands] == ["run"], commands  # an idle one gets a point
        return commands

    for number in range(WARMUP):
        beat(*beats[number % AGENTS])
    kinds = {"busy": [], "idle": []}
    queries = {}
    for number in range(args.repeat):
        agent_id, run_state = beats[number % AGENTS]
        kind = "busy" if run_state else "idle"
        with count_queries(connection) as counted:
            started = time.perf_counter()
            beat(agent_id, run_state)
            kinds[kind].append((time.perf_counter() - started) * 1000)
        queries.setdefault(kind, counted.count)
    samples = kinds["busy"] + kinds["idle"]
    p95 = percentile(samples, 95)
    for kind, timed in kinds.items():
        print(
            f"  {kind:>4} beats: {len(timed)}, median {statistics.median(timed):.1f} ms, "
            f"p95 {percentile(timed, 95):.1f} ms, {queries[kind]} queries"
        )
    print(
        f"  all beats: median {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(samples):.1f} ms"
    )
    ok = p95 <= TARGET_P95_MS
    print(f"  target: p95 <= {TARGET_P95_MS} ms: {'yes' if ok else 'NO'}")
    return ok


if __name__ == "__main__":
    sys.exit(main())
