"""file_stream ingestion through a production server process (gunicorn, DEBUG off), on SQLite
and PostgreSQL, beside the same points sent to an MLflow tracking server. A standalone script,
not a test: it prints its figures. See bench/README.md.

    .venv/bin/python bench/ingest.py                     # SQLite, PostgreSQL and MLflow
    .venv/bin/python bench/ingest.py --sqlite-only       # or --postgres-only, --skip-mlflow
    .venv/bin/python bench/ingest.py --runs 2 --chunks 5 # a quick look
    .venv/bin/python bench/ingest.py --rules 20          # also with 20 alert rules, and a worker

Each database is set up and checked in a child process of its own (the settings read
DATABASE_URL once, at import); the servers are child processes too, and are stopped on exit.
"""

import argparse
import base64
import http.client
import json
import math
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import PG_SERVER, SETTINGS_ENV, database_label, django_child, percentile, pg_admin

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_BENCH_DB = "teamsite_bench_ingest"
PG_BENCH_URL = f"{PG_SERVER}/{PG_BENCH_DB}"
HOST = "127.0.0.1"

# mlflow 3.18.0 needs mlflow-skinny==3.18.0, which the package index here does not have yet.
MLFLOW_VERSION = "3.17.2"
MLFLOW_VENV = Path(tempfile.gettempdir()) / "teamsite-bench-mlflow-venv"
MLFLOW_BATCH = 1_000  # log-batch takes at most 1,000 metrics per request
MLFLOW_HEADERS = {"Content-Type": "application/json"}

TARGETS = {"sqlite": 200_000, "postgresql": 100_000}  # points/s
# Teamsite on SQLite / MLflow on SQLite: the same kind of store. (Against PostgreSQL it would
# ask for 10x MLflow there too, which the 100k target for PostgreSQL does not; printed only.)
RATIO_TARGET = 10
RULES_DROP_TARGET = 0.10  # with --rules 20: at most 10% fewer points/s than with none
USER, TEAM, PROJECT = "bench", "bench-team", "ingest"
METRICS = [
    "loss",
    "accuracy",
    "val/loss",
    "val/accuracy",
    "lr",
    "grad_norm",
    "train/perplexity",
    "throughput",
    "gpu/memory",
    "epoch",
]
ENV = {**SETTINGS_ENV, "ALLOWED_HOSTS": HOST}


# --- the parent: databases, servers, load, table ----------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--runs", type=int, default=4, help="concurrent runs, one client each")
    parser.add_argument("--chunks", type=int, default=50, help="chunks each run sends")
    parser.add_argument("--lines", type=int, default=1_000, help="history lines per chunk")
    parser.add_argument(
        "--workers",
        type=int,
        default=4,
        help="server worker processes, for gunicorn and MLflow alike (default 4: two per core "
        "on this 2-core machine, one per concurrent run)",
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="DB_CONN_MAX_AGE for gunicorn (default 0: the settings' default, a new "
        "database connection per request)",
    )
    parser.add_argument(
        "--rules",
        type=int,
        default=0,
        help="also run each database with this many active alert rules on the project (and "
        "compare with none); a db_worker evaluates them beside gunicorn",
    )
    parser.add_argument("--mlflow-version", default=MLFLOW_VERSION)
    parser.add_argument("--child", choices=["setup", "verify"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    # Ctrl-C and a plain kill both unwind through the `finally` blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in background
    databases = ["sqlite", "postgres"]
    if args.sqlite_only:
        databases = ["sqlite"]
    elif args.postgres_only:
        databases = ["postgres"]

    lines = args.lines
    total = args.runs * args.chunks * lines * len(METRICS)
    print(
        f"ingest: {args.runs} concurrent runs x {args.chunks} chunks x {lines:,} lines x "
        f"{len(METRICS)} metrics = {total:,} points per server; {args.workers} server workers; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    data = History(args.chunks, lines)
    results = []
    with Servers() as servers:
        for database in databases:
            for rules in [0, args.rules] if args.rules else [0]:
                result = bench_teamsite(database, args, data, servers, rules)
                if result:
                    results.append(result)
        if not args.skip_mlflow:
            result = bench_mlflow(args, data, servers)
            if result:
                results.append(result)
    ok = print_table(results, args, total)
    expected = len(databases) * (2 if args.rules else 1) + (0 if args.skip_mlflow else 1)
    return 0 if ok and len(results) == expected else 1


class History:
    """The history rows every run sends: `_step`, `_runtime`, `_timestamp` and 10 metrics per
    line, pre-encoded so that the clients do nothing but send."""

    def __init__(self, chunks, lines):
        rng = random.Random(11)
        start = 1_780_000_000.0
        self.chunks, self.lines = chunks, lines
        self.file_stream = []  # one body per chunk
        self.log_batch = []  # per chunk, the "metrics" arrays of its log-batch calls
        for chunk in range(chunks):
            rows, metrics = [], []
            for line in range(lines):
                step = chunk * lines + line
                runtime = step * 0.05
                values = [
                    2.5 * math.exp(-step / 20_000) + rng.uniform(0, 0.05),
                    1 - math.exp(-step / 15_000) * rng.uniform(0.9, 1.0),
                    2.6 * math.exp(-step / 21_000) + rng.uniform(0, 0.08),
                    1 - math.exp(-step / 16_000) * rng.uniform(0.88, 1.0),
                    3e-4 * (0.5 + 0.5 * math.cos(step / 40_000)),
                    rng.lognormvariate(0, 0.3),
                    math.exp(2.5 * math.exp(-step / 20_000)) + rng.uniform(0, 0.1),
                    rng.gauss(1_200.0, 40.0),
                    rng.uniform(10.5, 11.5),
                    step / 5_000,
                ]
                row = {"_step": step, "_runtime": runtime, "_timestamp": start + runtime}
                row.update(zip(METRICS, values, strict=True))
                rows.append(json.dumps(row))
                timestamp = int((start + runtime) * 1000)
                metrics += [
                    {"key": key, "value": value, "timestamp": timestamp, "step": step}
                    for key, value in zip(METRICS, values, strict=True)
                ]
            body = {"files": {"wandb-history.jsonl": {"offset": chunk * lines, "content": rows}}}
            self.file_stream.append(json.dumps(body).encode())
            self.log_batch.append(
                [
                    json.dumps(metrics[i : i + MLFLOW_BATCH]).encode()
                    for i in range(0, len(metrics), MLFLOW_BATCH)
                ]
            )


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Servers:
    """Child processes in sessions of their own, each stopped as a process group (gunicorn's
    or MLflow's workers with it) when the block ends, however it ends."""

    def __init__(self):
        self.processes = []

    def __enter__(self):
        return self

    def start(self, command, *, env, log, cwd=ROOT):
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def stop(self, process):
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                pass
        if process in self.processes:
            self.processes.remove(process)

    def __exit__(self, *exc):
        for process in list(self.processes):
            self.stop(process)


def wait_for(process, port, path, log_path, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{tail(log_path)}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer in {timeout} s:\n{tail(log_path)}")


def tail(path, lines=30):
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def run_child(step, url, args, out, rules=0):
    command = [sys.executable, __file__, "--child", step, "--out", str(out)]
    command += ["--runs", str(args.runs), "--chunks", str(args.chunks), "--lines", str(args.lines)]
    command += ["--rules", str(rules)]
    env = {**os.environ, **ENV, "DATABASE_URL": url}
    completed = subprocess.run(command, env=env, cwd=ROOT, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{step} failed (exit {completed.returncode})")
    return json.loads(Path(out).read_text())


def bench_teamsite(database, args, data, servers, rules=0):
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-ingest-") as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3" if database == "sqlite" else PG_BENCH_URL
        try:
            if database == "postgres":
                pg_admin(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
                pg_admin(f"CREATE DATABASE {PG_BENCH_DB}")
            world = run_child("setup", url, args, Path(tmp) / "setup.json", rules)
            print(f"{world['label']}: migrated, {args.runs} runs and {rules} alert rules created")
            port = free_port()
            log_path = Path(tmp) / "gunicorn.log"
            env = {
                **os.environ,
                **ENV,
                "DATABASE_URL": url,
                "DB_CONN_MAX_AGE": str(args.conn_max_age),
                # WhiteNoise's note that there is no collectstatic output: no pages are served.
                "PYTHONWARNINGS": "ignore:No directory at",
            }
            command = [
                str(VENV_BIN / "gunicorn"),
                "teamsite.wsgi:application",
                f"--bind={HOST}:{port}",
                f"--workers={args.workers}",
                # Sync workers: a process takes a connection only when it is free, so the
                # kernel spreads the runs' requests over the idle processes. (gthread with
                # keep-alive let one process take several clients' connections while others
                # sat idle: 10-20% fewer points/s on SQLite.)
                "--worker-class=sync",
                "--log-level=warning",
            ]
            worker_log_path = Path(tmp) / "db_worker.log"
            with open(log_path, "w") as log, open(worker_log_path, "w") as worker_log:
                server = servers.start(command, env=env, log=log)
                # The worker that evaluates the rules (idle without them): as in production.
                worker = servers.start(
                    [sys.executable, "manage.py", "db_worker", "--no-reload"],
                    env={**env, "TASKS_BACKEND": "database"},
                    log=worker_log,
                )
                # A GET of file_stream: a quick 405, no page, no static files.
                wait_for(server, port, f"/files/{TEAM}/{PROJECT}/probe/file_stream", log_path)
                key = base64.b64encode(f"api:{world['api_key']}".encode()).decode()
                headers = {"Authorization": f"Basic {key}", "Content-Type": "application/json"}

                def requests(run_id, chunk):
                    path = f"/files/{TEAM}/{PROJECT}/{run_id}/file_stream"
                    return [(path, data.file_stream[chunk])]

                try:
                    load = run_load(port, headers, world, data, requests)
                except RuntimeError as error:
                    log_tail = tail(log_path, 40)
                    raise RuntimeError(f"{error}\n--- the server's log:\n{log_tail}") from None
                finally:
                    servers.stop(server)
                drained = wait_for_tasks(url, args, tmp, rules)
                servers.stop(worker)
                problems = [line for line in tail(log_path, 200).splitlines() if "Error" in line]
                problems += [
                    f"db_worker: {line}"
                    for line in tail(worker_log_path, 200).splitlines()
                    if "Error" in line
                ]
            check = run_child("verify", url, args, Path(tmp) / "verify.json", rules)
            print(f"{world['label']}: {check['summary']}")
            if not check["ok"]:
                raise RuntimeError(f"{world['label']}: points were lost: {check['summary']}")
            if rules and not check["tasks_ok"]:
                raise RuntimeError(f"{world['label']}: evaluations failed: {check['tasks']}")
            return {
                "name": f"Teamsite, {world['label']}" + (f", {rules} rules" if rules else ""),
                "vendor": world["vendor"],
                "rules": rules,
                **load,
                "notes": [check["summary"], check["tasks"] + drained, *problems[:5]],
            }
        except Exception as error:  # report, and go on with the other backends
            print(f"{database}: the benchmark failed: {error}")
            return None
        finally:
            if database == "postgres":
                try:
                    pg_admin(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
                except Exception as error:
                    print(f"postgres: could not drop {PG_BENCH_DB}: {error}")


def wait_for_tasks(url, args, tmp, rules, timeout=300):
    """Wait until the worker has run every task the load enqueued; say how long it took."""
    if not rules:
        return ""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        check = run_child("verify", url, args, Path(tmp) / "tasks.json", rules)
        if check["tasks_waiting"] == 0:
            return f"; the worker caught up {time.monotonic() - started:.1f} s after the load"
        time.sleep(1)
    return f"; the worker had not caught up after {timeout} s"


def run_load(port, headers, world, data, requests):
    """One client thread per run, each on its own connection (http.client opens it again when
    a sync worker closes it), sending its chunks in order. First a warm-up chunk each, all at
    once, to runs of their own (so every worker has loaded the URLconf and the metric keys
    exist); then all threads start together and the clock runs until the last answer."""
    runs, warmups = world["runs"], world["warmups"]
    start = threading.Barrier(len(runs) + 1)
    results = [None] * len(runs)
    failures = []

    def client(index):
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=300)

            def post(path, body):
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200:
                    raise RuntimeError(f"POST {path}: {response.status} {answer[:300]!r}")

            for path, body in requests(warmups[index], 0):
                post(path, body)
            start.wait()
            request_ms, chunk_ms = [], []
            for chunk in range(data.chunks):
                if failures:  # another client failed: the figures are void
                    return
                chunk_started = time.perf_counter()
                for path, body in requests(runs[index], chunk):
                    started = time.perf_counter()
                    post(path, body)
                    request_ms.append((time.perf_counter() - started) * 1000)
                chunk_ms.append((time.perf_counter() - chunk_started) * 1000)
            results[index] = (request_ms, chunk_ms)
            connection.close()
        except BaseException as error:
            failures.append(error)
            start.abort()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(runs))]
    for thread in threads:
        thread.start()
    try:
        start.wait()
    except threading.BrokenBarrierError:
        raise RuntimeError(f"a client failed: {failures[0]}") from None
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
    seconds = time.perf_counter() - started
    client_cpu = (time.process_time() - cpu) / seconds
    if failures:
        raise RuntimeError(f"a client failed: {failures[0]}")
    request_ms = [ms for result in results for ms in result[0]]
    chunk_ms = [ms for result in results for ms in result[1]]
    points = len(runs) * data.chunks * data.lines * len(METRICS)
    return {
        "points": points,
        "seconds": seconds,
        "rate": points / seconds,
        "requests": len(request_ms),
        "request_p50": statistics.median(request_ms),
        "request_p95": percentile(request_ms, 95),
        "chunk_p50": statistics.median(chunk_ms),
        "chunk_p95": percentile(chunk_ms, 95),
        "client_cpu": client_cpu,
    }


# --- MLflow: its own venv and server, the same points through log-batch -----------------------


def mlflow_venv(version):
    """A venv with mlflow in it, reused when it already has this version."""
    python = MLFLOW_VENV / "bin" / "python"
    check = [str(python), "-c", "import importlib.metadata as m; print(m.version('mlflow'))"]
    if python.exists():
        found = subprocess.run(check, capture_output=True, text=True, check=False)
        if found.stdout.strip() == version:
            return MLFLOW_VENV
    print(f"MLflow: installing mlflow=={version} into {MLFLOW_VENV} (a few minutes, once)")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(MLFLOW_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, f"mlflow=={version}"], check=True)
    return MLFLOW_VENV


def mlflow_call(port, path, payload):
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    connection.request("POST", f"/api/2.0/mlflow/{path}", json.dumps(payload), MLFLOW_HEADERS)
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"MLflow {path}: {response.status} {answer[:300]!r}")
    return json.loads(answer)


def bench_mlflow(args, data, servers):
    try:
        venv = mlflow_venv(args.mlflow_version)
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"MLflow: the install failed: {error}")
        return None
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-mlflow-") as tmp:
        db = Path(tmp) / "mlflow.db"
        port = free_port()
        log_path = Path(tmp) / "mlflow.log"
        command = [
            str(venv / "bin" / "mlflow"),
            "server",
            f"--backend-store-uri=sqlite:///{db}",
            f"--default-artifact-root={Path(tmp) / 'artifacts'}",
            f"--host={HOST}",
            f"--port={port}",
            f"--workers={args.workers}",
        ]
        env = {**os.environ, "MLFLOW_LOGGING_LEVEL": "WARNING"}
        try:
            with open(log_path, "w") as log:
                server = servers.start(command, env=env, log=log, cwd=tmp)
                wait_for(server, port, "/health", log_path)
                experiment = mlflow_call(port, "experiments/create", {"name": "ingest"})
                experiment_id = experiment["experiment_id"]

                def create_run(name):
                    payload = {
                        "experiment_id": experiment_id,
                        "run_name": name,
                        "start_time": int(time.time() * 1000),
                    }
                    return mlflow_call(port, "runs/create", payload)["run"]["info"]["run_id"]

                world = {
                    "runs": [create_run(f"run-{i}") for i in range(args.runs)],
                    "warmups": [create_run(f"warmup-{i}") for i in range(args.runs)],
                }
                print(f"MLflow {args.mlflow_version}: server up, {args.runs} runs created")

                def requests(run_id, chunk):
                    prefix = f'{{"run_id": "{run_id}", "metrics": '.encode()
                    path = "/api/2.0/mlflow/runs/log-batch"
                    return [(path, prefix + metrics + b"}") for metrics in data.log_batch[chunk]]

                try:
                    load = run_load(port, MLFLOW_HEADERS, world, data, requests)
                except RuntimeError as error:
                    log_tail = tail(log_path, 40)
                    raise RuntimeError(f"{error}\n--- the server's log:\n{log_tail}") from None
                finally:
                    servers.stop(server)
            check = mlflow_verify(db, world["runs"], data)
            print(f"MLflow: {check['summary']}")
            if not check["ok"]:
                raise RuntimeError(f"MLflow lost points: {check['summary']}")
            return {
                "name": f"MLflow {args.mlflow_version}, SQLite",
                "vendor": "mlflow",
                **load,
                "notes": [check["summary"]],
            }
        except Exception as error:
            print(f"MLflow: the benchmark failed: {error}")
            return None


def mlflow_verify(db, run_ids, data):
    expected = data.chunks * data.lines * len(METRICS)
    with sqlite3.connect(db) as connection:
        counts = dict(
            connection.execute(
                "SELECT run_uuid, COUNT(*) FROM metrics GROUP BY run_uuid"
            ).fetchall()
        )
    found = [counts.get(run_id, 0) for run_id in run_ids]
    ok = all(count == expected for count in found)
    return {
        "ok": ok,
        "summary": f"stored {sum(found):,} of {expected * len(run_ids):,} metric values "
        f"({'all' if ok else 'NOT all'})",
    }


# --- the table --------------------------------------------------------------------------------


def print_table(results, args, total):
    print()
    print(
        f"{args.runs} concurrent runs, each sending {args.chunks} chunks of {args.lines:,} "
        f"history lines x {len(METRICS)} metrics: {total:,} points per server (a point is one "
        "metric value; _step, _runtime and _timestamp are not counted)"
    )
    print(
        f"Teamsite: gunicorn, {args.workers} sync workers, DEBUG off, "
        f"DB_CONN_MAX_AGE={args.conn_max_age}. MLflow: `mlflow server`, {args.workers} workers, "
        "SQLite."
    )
    head = (
        f"  {'server':<38} {'points':>10} {'seconds':>8} {'points/s':>10} {'requests':>9} "
        f"{'req p50':>8} {'req p95':>8} {'chunk p50':>10} {'chunk p95':>10} {'target':>12}  ok"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    ok = True
    for row in results:
        target = TARGETS.get(row["vendor"])
        passed = target is None or row["rate"] >= target
        ok &= passed
        print(
            f"  {row['name']:<38} {row['points']:>10,} {row['seconds']:>8.2f} "
            f"{row['rate']:>10,.0f} {row['requests']:>9,} {row['request_p50']:>6.0f}ms "
            f"{row['request_p95']:>6.0f}ms {row['chunk_p50']:>8.0f}ms {row['chunk_p95']:>8.0f}ms "
            f"{'>= ' + format(target, ',') if target else '':>12}  "
            f"{('yes' if passed else 'NO') if target else ''}"
        )
    for row in results:
        base = next(
            (
                other
                for other in results
                if other["vendor"] == row["vendor"] and not other.get("rules")
            ),
            None,
        )
        if row.get("rules") and base:
            change = row["rate"] / base["rate"] - 1
            passed = change >= -RULES_DROP_TARGET
            ok &= passed
            print(
                f"  {row['name']}: points/s {change:+.1%} against no rules "
                f"(target: no more than {RULES_DROP_TARGET:.0%} fewer)  {'yes' if passed else 'NO'}"
            )
    mlflow = next((row for row in results if row["vendor"] == "mlflow"), None)
    for row in results if mlflow else []:
        if row is not mlflow:
            ratio = row["rate"] / mlflow["rate"]
            if row["vendor"] == "sqlite":
                passed = ratio >= RATIO_TARGET
                ok &= passed
                verdict = f"(target >= {RATIO_TARGET}x)  {'yes' if passed else 'NO'}"
            else:
                verdict = "(no target)"
            print(f"  ratio {row['name']} / {mlflow['name']}: {ratio:.1f}x {verdict}")
    per_chunk = -(-args.lines * len(METRICS) // MLFLOW_BATCH)
    print(
        f"  A Teamsite request is one {args.lines:,}-line file_stream chunk. An MLflow request is "
        f"one log-batch of at most {MLFLOW_BATCH:,} metrics\n  (its limit), so a chunk is "
        f"{per_chunk} of them, sent one after another; 'chunk' is the time of the whole chunk."
    )
    for row in results:
        print(f"  {row['name']}: the client threads used {row['client_cpu']:.0%} of a core")
        for note in row["notes"]:
            print(f"    {note}")
    return ok


# --- the children: one database, in this process's environment --------------------------------


def child(args):
    django_child()
    from django.db import connection

    if args.child == "setup":
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        result = create_world(args.runs, args.rules)
        result["vendor"] = connection.vendor
        result["label"] = database_label(connection)
    else:
        result = verify(args)
    Path(args.out).write_text(json.dumps(result))
    return 0


def create_world(count, rules=0):
    """A person, a team project, an API key, and the runs, as the client's upsertBucket makes
    them (runs.tracking.run_upsert); `rules` active alert rules over its metrics, threshold and
    change in turn, that the bench's values never fire."""
    from accounts.models import ApiKey
    from alerts.models import AlertRule
    from alerts.services import alert_rule_save
    from projects.services import project_create
    from runs.tracking import run_upsert
    from teams import services

    user = services.user_create(username=USER, email="bench@example.com")
    team = services.team_create(name=TEAM, creator=user)
    project = project_create(entity=team, name=PROJECT, creator=user)
    for number in range(rules):
        metric = METRICS[number % len(METRICS)]
        fields = {"kind": AlertRule.Kind.THRESHOLD, "threshold": 1e12, "aggregate": "max"}
        if number % 2:
            fields = {"kind": AlertRule.Kind.CHANGE, "threshold": 1e12, "window": 10}
        fields.update(window=fields.get("window", 5), previous_window=10)
        rule = AlertRule(project=project, name=f"rule {number}", metric=metric, created_by=user)
        for name, value in fields.items():
            setattr(rule, name, value)
        alert_rule_save(rule=rule)
    _, api_key = ApiKey.create_for(user=user, label="bench")

    def run(run_id):
        run_upsert(
            actor=user,
            entity_name=TEAM,
            project_name=PROJECT,
            run_id=run_id,
            username=None,
            fields={"displayName": run_id},
        )
        return run_id

    return {
        "api_key": api_key,
        "runs": [run(f"ingest{i:03d}") for i in range(count)],
        "warmups": [run(f"warmup{i:03d}") for i in range(count)],
    }


def metric_points_by_run(runs) -> dict[str, int]:
    """{run id: its stored history points of METRICS} (a child's Django is set up)."""
    from django.db.models import Count

    from runs.models import MetricKey, Point

    return dict(
        Point.objects.filter(
            run__in=runs, key__stream=MetricKey.Stream.HISTORY, key__name__in=METRICS
        )
        .values_list("run__run_id")
        .annotate(count=Count("*"))
        .values_list("run__run_id", "count")
    )


def verify(args):
    """Every point of every timed run is stored: the 10 metric keys, one row per line each."""
    from django.db.models import Count

    from runs.models import Point, Run

    expected = args.chunks * args.lines
    runs = Run.objects.filter(project__name=PROJECT, run_id__startswith="ingest")
    counts = metric_points_by_run(runs)
    lines = dict(runs.values_list("run_id", "history_line_count"))
    ok = len(lines) == args.runs and all(
        counts.get(run_id, 0) == expected * len(METRICS) and line_count == expected
        for run_id, line_count in lines.items()
    )
    stored = sum(counts.values())
    every = Point.objects.filter(run__in=runs).count()
    from django_tasks_db.models import DBTaskResult

    from alerts.models import AlertEvent

    tasks = DBTaskResult.objects.filter(task_path="alerts.tasks.evaluate_chunk")
    by_status = dict(tasks.values_list("status").annotate(count=Count("*")).order_by())
    waiting = sum(count for status, count in by_status.items() if status in ("READY", "RUNNING"))
    fired = AlertEvent.objects.count()
    return {
        "tasks_waiting": waiting,
        "tasks_ok": set(by_status) <= {"SUCCESSFUL"},
        "tasks": f"rule evaluations: {by_status or 'none'}, {fired} alerts fired",
        "ok": ok,
        "summary": f"stored {stored:,} of {expected * len(METRICS) * args.runs:,} metric points "
        f"({'all' if ok else 'NOT all'}); with _runtime and _timestamp, {every:,} point rows",
    }


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the servers are stopped")
        sys.exit(130)
