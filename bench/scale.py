"""Teamsite on several machines' worth of processes, on one: two gunicorn instances behind nginx,
on PostgreSQL + Redis + an S3 server + a task worker. The file_stream ingestion load of
bench/ingest.py goes through the proxy, first to one instance, then to two, then to two of which
one is killed mid-load. A standalone script, not a test: it prints its figures. See
bench/README.md.

    .venv/bin/python bench/scale.py                      # the three phases
    .venv/bin/python bench/scale.py --runs 4 --chunks 10 # a quick look

Needs nginx (Debian: `apt-get install nginx-light`), PostgreSQL at 127.0.0.1:5432 (user postgres,
trust) and Redis at 127.0.0.1:6379; the S3 server (moto) comes with requirements-test.txt.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import PG_SERVER, SETTINGS_ENV, database_label, django_child, percentile, pg_admin
from ingest import (
    HOST,
    METRICS,
    History,
    Servers,
    free_port,
    metric_points_by_run,
    wait_for,
)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_DB = "teamsite_bench_scale"
PG_URL = f"{PG_SERVER}/{PG_DB}"
REDIS_URL = "redis://127.0.0.1:6379/7"
BUCKET = "teamsite-bench-scale"
USER, TEAM, PROJECT = "bench", "bench-team", "scale"
PHASES = [
    # (name, instances behind the proxy, kill one of them when this share of chunks is in)
    ("1 instance", 1, None),
    ("2 instances", 2, None),
    ("2 instances, one killed", 2, 0.4),
]
# A client sends a chunk again when the proxy answers these (the instance it went to died) or
# the connection breaks, as the wandb client retries file_stream.
RETRY_STATUSES = {502, 503, 504}
MAX_ATTEMPTS = 50


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="concurrent runs, one client each")
    parser.add_argument("--chunks", type=int, default=30, help="chunks each run sends")
    parser.add_argument("--lines", type=int, default=1_000, help="history lines per chunk")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--child", choices=["setup", "verify"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        print("scale: nginx is missing (Debian: apt-get install nginx-light)")
        return 2

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    points = args.runs * args.chunks * args.lines * len(METRICS)
    print(
        f"scale: {args.runs} concurrent runs x {args.chunks} chunks x {args.lines:,} lines x "
        f"{len(METRICS)} metrics = {points:,} points per phase; {args.workers} gunicorn workers "
        f"per instance; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    data = History(args.chunks, args.lines)
    results = []
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-scale-") as tmp, Servers() as servers:
        tmp = Path(tmp)
        stack = Stack(servers, tmp, nginx)
        try:
            env = stack.start_shared(args)
            for number, (name, instances, kill_at) in enumerate(PHASES):
                prefix = f"p{number}-"
                world = run_child("setup", env, args, tmp / f"setup{number}.json", prefix)
                load = stack.phase(env, args, data, world, instances, kill_at)
                check = run_child("verify", env, args, tmp / f"verify{number}.json", prefix)
                results.append({"name": name, "label": world["label"], **load, **check})
                print(f"{name}: {load['rate']:,.0f} points/s; {check['summary']}")
        finally:
            pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    return print_table(results, args)


class Stack:
    """The processes: the S3 server, the worker, gunicorn instances and nginx."""

    def __init__(self, servers, tmp, nginx):
        self.servers, self.tmp, self.nginx = servers, tmp, nginx

    def log(self, name):
        return open(self.tmp / f"{name}.log", "w")

    def start_shared(self, args):
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {PG_DB}")
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        s3_port = free_port()
        s3 = self.servers.start(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(s3_port)],
            env={**os.environ, "MOTO_S3_CUSTOM_ENDPOINTS": f"http://{HOST}:{s3_port}"},
            log=self.log("s3"),
        )
        wait_for(s3, s3_port, "/moto-api/", self.tmp / "s3.log")
        env = {
            **os.environ,
            **SETTINGS_ENV,
            "ALLOWED_HOSTS": HOST,
            "DATABASE_URL": PG_URL,
            "REDIS_URL": REDIS_URL,
            "STORAGE_URL": f"s3://{BUCKET}",
            "S3_ENDPOINT_URL": f"http://{HOST}:{s3_port}",
            "S3_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "TASKS_BACKEND": "database",
            "USE_X_FORWARDED_FOR": "1",
            "PYTHONWARNINGS": "ignore:No directory at",
        }
        import boto3

        boto3.client(
            "s3",
            endpoint_url=env["S3_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).create_bucket(Bucket=BUCKET)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            env=env,
            cwd=ROOT,
            check=True,
        )
        self.servers.start(
            [sys.executable, "manage.py", "db_worker"], env=env, log=self.log("worker")
        )
        return env

    def gunicorn(self, env, args, name):
        port = free_port()
        command = [
            str(VENV_BIN / "gunicorn"),
            "teamsite.wsgi:application",
            f"--bind={HOST}:{port}",
            f"--workers={args.workers}",
            "--worker-class=sync",
            "--log-level=warning",
        ]
        process = self.servers.start(command, env=env, log=self.log(name))
        wait_for(process, port, "/healthz", self.tmp / f"{name}.log")
        return process, port

    def proxy(self, ports):
        port = free_port()
        folder = self.tmp / f"nginx-{port}"
        folder.mkdir()
        upstreams = "\n".join(f"server {HOST}:{p} max_fails=1 fail_timeout=30s;" for p in ports)
        config = folder / "nginx.conf"
        config.write_text(
            NGINX_CONFIG.format(folder=folder, port=port, host=HOST, upstreams=upstreams)
        )
        process = self.servers.start(
            [self.nginx, "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log")],
            env=os.environ,
            log=self.log(f"nginx-{port}"),
        )
        wait_for(process, port, "/healthz", folder / "error.log")
        return process, port

    def phase(self, env, args, data, world, instances, kill_at):
        web = [self.gunicorn(env, args, f"web{i}-{time.monotonic_ns()}") for i in range(instances)]
        proxy, port = self.proxy([p for _, p in web])
        try:
            ready = get(port, "/readyz")
            if ready[0] != 200:
                raise RuntimeError(f"/readyz through the proxy: {ready}")
            victim = web[-1][0]
            # SIGKILL to the instance's process group: its master and workers die at once,
            # mid-request, as when a machine goes away.
            return run_load(port, world, data, kill_at, lambda: os.killpg(victim.pid, 9))
        finally:
            for process in [proxy, *(p for p, _ in web)]:
                self.servers.stop(process)


NGINX_CONFIG = """
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    client_max_body_size 64m;
    # Chunks stay in memory: nginx's workers (user nobody when started as root) need no
    # writable folder.
    client_body_buffer_size 64m;
    upstream teamsite {{
        {upstreams}
        keepalive 16;
    }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://teamsite;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # A request that never reached an instance goes to the next; one that did is
            # answered 502 and the client sends it again.
            proxy_next_upstream error timeout;
            proxy_read_timeout 300s;
        }}
    }}
}}
"""


def get(port, path):
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()[:300]


def run_load(port, world, data, kill_at, kill):
    """One client thread per run sending its chunks in order through the proxy, each chunk
    again until it is answered 200. With `kill_at`, `kill()` runs once that share of all chunks
    has been answered."""
    runs, headers = world["runs"], world["headers"]
    total = len(runs) * data.chunks
    answered = []
    retries, failures, request_ms = [], [], []
    killed = threading.Event()
    lock = threading.Lock()
    start = threading.Barrier(len(runs) + 1)

    def send(connection, path, body):
        for attempt in range(MAX_ATTEMPTS):
            started = time.perf_counter()
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                status, answer = None, repr(error).encode()
            else:
                status = response.status
            if status == 200:
                return (time.perf_counter() - started) * 1000
            if status is not None and status not in RETRY_STATUSES:
                raise RuntimeError(f"POST {path}: {status} {answer[:300]!r}")
            with lock:
                retries.append(status)
            time.sleep(min(0.1 * 2**attempt, 2))
        raise RuntimeError(f"POST {path}: no answer after {MAX_ATTEMPTS} attempts")

    def client(run_id):
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=300)
            path = f"/files/{TEAM}/{PROJECT}/{run_id}/file_stream"
            start.wait()
            for chunk in range(data.chunks):
                if failures:
                    return
                ms = send(connection, path, data.file_stream[chunk])
                with lock:
                    request_ms.append(ms)
                    answered.append(chunk)
                    due = kill_at is not None and len(answered) >= kill_at * total
                if due and not killed.is_set():
                    killed.set()
                    kill()
            connection.close()
        except BaseException as error:
            failures.append(error)
            start.abort()

    threads = [threading.Thread(target=client, args=(run,), daemon=True) for run in runs]
    for thread in threads:
        thread.start()
    try:
        start.wait()
    except threading.BrokenBarrierError:
        raise RuntimeError(f"a client failed: {failures[0]}") from None
    started = time.perf_counter()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"a client failed: {failures[0]}")
    points = total * data.lines * len(METRICS)
    return {
        "points": points,
        "seconds": seconds,
        "rate": points / seconds,
        "request_p50": statistics.median(request_ms),
        "request_p95": percentile(request_ms, 95),
        "retries": len(retries),
        "killed": killed.is_set(),
    }


def run_child(step, env, args, out, prefix):
    command = [sys.executable, __file__, "--child", step, "--out", str(out), "--prefix", prefix]
    command += ["--runs", str(args.runs), "--chunks", str(args.chunks), "--lines", str(args.lines)]
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    return json.loads(Path(out).read_text())


def print_table(results, args):
    print()
    print(
        f"{args.runs} concurrent runs, each sending {args.chunks} chunks of {args.lines:,} "
        f"history lines x {len(METRICS)} metrics, through nginx to gunicorn instances of "
        f"{args.workers} sync workers; {results[0]['label'] if results else ''}, Redis cache, "
        "S3 storage (moto), a db_worker"
    )
    head = (
        f"  {'phase':<26} {'points':>10} {'seconds':>8} {'points/s':>10} {'req p50':>8} "
        f"{'req p95':>8} {'retries':>8} {'lost':>6} {'extra':>6}  ok"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    ok = len(results) == len(PHASES)
    for row in results:
        passed = row["lost"] == 0 and row["extra"] == 0 and (row["killed"] or not row["retries"])
        ok &= passed
        print(
            f"  {row['name']:<26} {row['points']:>10,} {row['seconds']:>8.2f} "
            f"{row['rate']:>10,.0f} "
            f"{row['request_p50']:>6.0f}ms {row['request_p95']:>6.0f}ms {row['retries']:>8} "
            f"{row['lost']:>6} {row['extra']:>6}  {'yes' if passed else 'NO'}"
        )
    if len(results) >= 2:
        print(f"  2 instances / 1 instance: {results[1]['rate'] / results[0]['rate']:.2f}x")
    print(
        "  'lost': points the clients sent that are not stored; 'extra': stored points beyond "
        "those sent (a chunk applied twice). 'retries': chunks sent again after a 502 or a "
        "broken connection."
    )
    return 0 if ok else 1


# --- the children: the database, in the stack's environment -----------------------------------


def child(args):
    django_child()
    from django.db import connection

    if args.child == "setup":
        result = create_world(args.runs, args.prefix)
        result["label"] = database_label(connection)
    else:
        result = verify(args)
    Path(args.out).write_text(json.dumps(result))
    return 0


def create_world(count, prefix):
    import base64

    from django.contrib.auth import get_user_model

    from accounts.models import ApiKey
    from projects.services import project_create
    from runs.tracking import run_upsert
    from teams import services
    from teams.models import Entity

    team = Entity.objects.filter(name=TEAM).first()
    if team is None:
        user = services.user_create(username=USER, email="bench@example.com")
        team = services.team_create(name=TEAM, creator=user)
        project_create(entity=team, name=PROJECT, creator=user)
    user = get_user_model().objects.get(username=USER)
    _, api_key = ApiKey.create_for(user=user, label=f"bench {prefix}")
    runs = []
    for i in range(count):
        run_id = f"{prefix}{i:03d}"
        run_upsert(
            actor=user,
            entity_name=TEAM,
            project_name=PROJECT,
            run_id=run_id,
            username=None,
            fields={"displayName": run_id},
        )
        runs.append(run_id)
    key = base64.b64encode(f"api:{api_key}".encode()).decode()
    headers = {"Authorization": f"Basic {key}", "Content-Type": "application/json"}
    return {"runs": runs, "headers": headers}


def verify(args):
    """Every point sent is stored once: per run, each metric has exactly one point per line."""
    from runs.models import Run

    expected = args.chunks * args.lines * len(METRICS)
    runs = Run.objects.filter(project__name=PROJECT, run_id__startswith=args.prefix)
    counts = metric_points_by_run(runs)
    found = [counts.get(run_id, 0) for run_id in runs.values_list("run_id", flat=True)]
    lost = sum(max(expected - count, 0) for count in found) + expected * (args.runs - len(found))
    extra = sum(max(count - expected, 0) for count in found)
    return {
        "lost": lost,
        "extra": extra,
        "summary": f"stored {sum(found):,} of {expected * args.runs:,} points "
        f"({lost:,} lost, {extra:,} extra)",
    }


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the servers are stopped")
        sys.exit(130)
