"""How soon an alert's webhook reaches its receiver after the chunk that fires it is stored.

A production stack on one machine: gunicorn (DEBUG off) on PostgreSQL, one `manage.py db_worker`
as in production, and a local HTTP receiver standing in for a chat service or an on-call tool.
A project has a threshold rule posting to a signed webhook. Each trial streams a quiet chunk
to a new run, then the chunk that crosses the threshold, and times from the moment that
chunk's response arrives (it is stored: the transaction committed before the answer) to the
moment the receiver has the signed request. Trials start at random moments, so they sample
where the worker is in its polling. A standalone script, not a test: it prints its figures.

    .venv/bin/python bench/alert_latency.py              # 20 trials
    .venv/bin/python bench/alert_latency.py --trials 5   # a quick look

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust).
"""

import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import SETTINGS_ENV, percentile
from ingest import HOST, Servers, free_port, pg_admin, wait_for

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_DB = "teamsite_bench_alerts"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
USER, TEAM, PROJECT = "bench", "bench-team", "alerts"
TARGET = 2.0  # seconds, at most, from the stored chunk to the receiver
THRESHOLD = 1.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--child", choices=["setup"], help=argparse.SUPPRESS)
    parser.add_argument("--receiver", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return setup(args)

    receiver = Receiver()
    env = {
        **os.environ,
        **SETTINGS_ENV,
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": PG_URL,
        "TASKS_BACKEND": "database",
    }
    print(
        f"alert_latency: {args.trials} trials; gunicorn, PostgreSQL, one db_worker; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {PG_DB}")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="teamsite-bench-alerts-") as tmp,
            Servers() as servers,
        ):
            latencies = run_trials(Path(tmp), servers, env, args, receiver)
    finally:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        receiver.close()
    return report(latencies, receiver)


def run_trials(tmp, servers, env, args, receiver):
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True
    )
    out = tmp / "setup.json"
    command = [sys.executable, __file__, "--child", "setup", "--out", str(out)]
    command += ["--trials", str(args.trials), "--receiver", receiver.url]
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    world = json.loads(out.read_text())
    receiver.secret = world["secret"]
    with open(tmp / "worker.log", "w") as worker_log, open(tmp / "web.log", "w") as web_log:
        servers.start([sys.executable, "manage.py", "db_worker"], env=env, log=worker_log)
        port = free_port()
        gunicorn = [
            str(VENV_BIN / "gunicorn"),
            "teamsite.wsgi:application",
            f"--bind={HOST}:{port}",
        ]
        web = servers.start([*gunicorn, "--workers=2"], env=env, log=web_log)
        wait_for(web, port, "/healthz", tmp / "web.log")
        return [trial(port, world, run_id, receiver) for run_id in world["runs"]]


def trial(port, world, run_id, receiver):
    """Stream a quiet chunk, then the one over the threshold; the seconds from its stored
    answer to the webhook's arrival."""
    time.sleep(random.uniform(0, 1))  # a random phase against the worker's polling
    post_chunk(port, world, run_id, [0.5, 0.6], offset=0)
    time.sleep(random.uniform(0.2, 0.8))
    stored = post_chunk(port, world, run_id, [0.9, THRESHOLD + 1.5], offset=2)
    arrived = receiver.wait_for(run_id, timeout=30)
    latency = arrived - stored
    print(f"  {run_id}: {latency * 1000:.0f} ms")
    return latency


def post_chunk(port, world, run_id, values, offset):
    lines = [json.dumps({"_step": offset + i, "loss": value}) for i, value in enumerate(values)]
    body = json.dumps({"files": {"wandb-history.jsonl": {"offset": offset, "content": lines}}})
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request(
        "POST", f"/files/{TEAM}/{PROJECT}/{run_id}/file_stream", body, world["headers"]
    )
    response = connection.getresponse()
    response.read()
    stored = time.time()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"file_stream answered {response.status}")
    return stored


class Receiver(http.server.ThreadingHTTPServer):
    """Records when each signed alert arrives, by run; refuses a bad signature."""

    def __init__(self):
        super().__init__((HOST, 0), ReceiverHandler)
        self.url = f"http://{HOST}:{self.server_address[1]}/hooks/teamsite"
        self.secret = None
        self.arrivals = {}
        self.bad_signatures = 0
        self.arrived = threading.Condition()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def record(self, body: bytes, signature: str) -> bool:
        arrived = time.time()
        fields = dict(part.split("=", 1) for part in signature.split(",") if "=" in part)
        expected = hmac.new(
            self.secret.encode(), f"{fields.get('t', '')}.".encode() + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, fields.get("v1", "")):
            self.bad_signatures += 1
            return False
        run_id = json.loads(body)["run"]["id"]
        with self.arrived:
            self.arrivals.setdefault(run_id, arrived)
            self.arrived.notify_all()
        return True

    def wait_for(self, run_id, timeout):
        with self.arrived:
            if not self.arrived.wait_for(lambda: run_id in self.arrivals, timeout):
                raise RuntimeError(f"no webhook for {run_id} within {timeout} s")
            return self.arrivals[run_id]

    def close(self):
        self.shutdown()
        self.server_close()


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        accepted = self.server.record(body, self.headers.get("Teamsite-Signature", ""))
        self.send_response(204 if accepted else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


def report(latencies, receiver):
    median = percentile(latencies, 50)
    p95, worst = percentile(latencies, 95), max(latencies)
    print(
        f"\nchunk stored -> webhook received, {len(latencies)} trials: "
        f"median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {worst * 1000:.0f} ms; "
        f"target <= {TARGET:.0f} s: {'met' if worst <= TARGET else 'MISSED'}; "
        f"bad signatures: {receiver.bad_signatures}"
    )
    return 0 if worst <= TARGET and not receiver.bad_signatures else 1


def setup(args):
    """In a child process with the bench database: the team, the project, its rule and
    webhook, a run per trial, and an API key."""
    import base64

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from accounts.models import ApiKey
    from alerts.models import AlertRule
    from alerts.services import alert_rule_save
    from alerts.webhooks import webhook_create
    from projects.services import project_create
    from runs.tracking import run_upsert
    from teams import services

    user = services.user_create(username=USER, email="bench@example.com")
    team = services.team_create(name=TEAM, creator=user)
    project = project_create(entity=team, name=PROJECT, creator=user)
    webhook, secret = webhook_create(
        entity=team, name="receiver", url=args.receiver, format="generic", actor=user
    )
    rule = AlertRule(
        project=project,
        name="loss over 1",
        kind=AlertRule.Kind.THRESHOLD,
        metric="loss",
        threshold=THRESHOLD,
        created_by=user,
        notify_email=False,
    )
    alert_rule_save(rule=rule, webhooks=[webhook])
    runs = []
    for number in range(args.trials):
        run_id = f"latency{number:03d}"
        run_upsert(
            actor=user,
            entity_name=TEAM,
            project_name=PROJECT,
            run_id=run_id,
            username=None,
            fields={"displayName": run_id},
        )
        runs.append(run_id)
    _, api_key = ApiKey.create_for(user=user, label="bench")
    key = base64.b64encode(f"api:{api_key}".encode()).decode()
    headers = {"Authorization": f"Basic {key}", "Content-Type": "application/json"}
    Path(args.out).write_text(json.dumps({"runs": runs, "headers": headers, "secret": secret}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
