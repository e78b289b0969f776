"""Reading a run's history back through the real client: `wandb.Api().run(path)
.scan_history(keys=[...], page_size=...)` against a production server process (gunicorn, DEBUG
off). A standalone script, not a test: it prints its figures. See bench/README.md.

    .venv/bin/python bench/history_readback.py                      # 200,000 rows x 3 keys
    .venv/bin/python bench/history_readback.py --rows 1000000 --page-size 1000 10000
    .venv/bin/python bench/history_readback.py --postgres           # PostgreSQL, not SQLite

The database is set up in a child process (the settings read DATABASE_URL once, at import); the
server is a child process too and is stopped on exit, and each scan runs the client in a
subprocess of its own, as a notebook would.
"""

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import PG_SERVER, django_child, percentile, pg_admin
from ingest import ENV, HOST, Servers, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_BENCH_DB = "teamsite_bench_readback"
USER, TEAM, PROJECT, RUN = "bench", "bench-team", "readback", "readback1"
KEYS = ["loss", "acc", "lr"]
TARGET = 100_000  # rows/s read back through the client
# Measured before RunKey and the cheap parquetHistory (1M rows, page size 10,000, SQLite).
BEFORE = 33_132
BATCH = 20_000  # history lines per ingestion call
# gunicorn's access log: the path and the request's time in microseconds.
ACCESS_FORMAT = "%(m)s %(U)s %(D)s"

# The client's side: one scan, timed from the first page to the last row.
CLIENT = """
import json, sys, time
import wandb
path, keys, page_size = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
run = wandb.Api(timeout=60).run(path)
started = time.perf_counter()
count, last, ordered = 0, -1, True
for row in run.scan_history(keys=keys, page_size=page_size, use_cache=False):
    ordered &= row["_step"] > last
    last = row["_step"]
    count += 1
print(json.dumps({"rows": count, "seconds": time.perf_counter() - started, "ordered": ordered}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="history rows (steps)")
    parser.add_argument(
        "--page-size", type=int, nargs="+", default=[1_000, 10_000], help="scan page sizes"
    )
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--pg-database",
        default=PG_BENCH_DB,
        help="the PostgreSQL database to create and drop (one of its own per concurrent run)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(
        f"history read-back: {args.rows:,} rows x {len(KEYS)} keys, page sizes "
        f"{args.page_size}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    ok = True
    with (
        tempfile.TemporaryDirectory(prefix="teamsite-bench-readback-") as tmp,
        Servers() as servers,
    ):
        database = args.pg_database
        url = f"{PG_SERVER}/{database}" if args.postgres else f"sqlite:///{tmp}/bench.sqlite3"
        try:
            if args.postgres:
                pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
                pg_admin(f"CREATE DATABASE {database}")
            out = Path(tmp) / "setup.json"
            command = [sys.executable, __file__, "--child", "--out", str(out)]
            command += ["--rows", str(args.rows)]
            env = {**os.environ, **ENV, "DATABASE_URL": url}
            subprocess.run(command, env=env, cwd=ROOT, check=True)
            world = json.loads(out.read_text())
            print(f"{world['label']}: {world['rows']:,} rows ingested in {world['seconds']:.1f} s")

            port = free_port()
            log_path, access_path = Path(tmp) / "gunicorn.log", Path(tmp) / "access.log"
            server_env = {**env, "PYTHONWARNINGS": "ignore:No directory at"}
            with open(log_path, "w") as log:
                server = servers.start(
                    [
                        str(VENV_BIN / "gunicorn"),
                        "teamsite.wsgi:application",
                        f"--bind={HOST}:{port}",
                        f"--workers={args.workers}",
                        "--worker-class=sync",
                        "--timeout=300",
                        "--log-level=warning",
                        f"--access-logfile={access_path}",
                        f"--access-logformat={ACCESS_FORMAT}",
                    ],
                    env=server_env,
                    log=log,
                )
                wait_for(server, port, f"/files/{TEAM}/{PROJECT}/probe/file_stream", log_path)
                print(
                    f"  {'page size':>9} {'rows':>10} {'seconds':>8} {'rows/s':>10} "
                    f"{'pages':>6} {'page p50':>9} {'page p95':>9} {'target':>10}  ok"
                )
                for page_size in args.page_size:
                    ok &= scan(port, world, page_size, access_path, args, tmp, server.pid)
                servers.stop(server)
        except subprocess.CalledProcessError as error:
            print(f"the benchmark failed: {error}")
            return 1
        finally:
            if args.postgres:
                pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    print(
        "  rows/s: rows the client yielded over the scan's wall time (after wandb.Api().run());"
        "\n  page p50/p95: the server's time per GraphQL request of the scan (gunicorn's log)."
    )
    return 0 if ok else 1


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process's children (gunicorn's workers), from /proc."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            fields = Path(f"/proc/{child}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def scan(port, world, page_size, access_path, args, tmp, server_pid) -> bool:
    folder = Path(tmp) / f"client-{page_size}"
    folder.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder),
        "WANDB_BASE_URL": f"http://{HOST}:{port}",
        "WANDB_API_KEY": world["api_key"],
        "WANDB_CONFIG_DIR": str(folder / "config"),
        "WANDB_CACHE_DIR": str(folder / "cache"),
        "WANDB_DATA_DIR": str(folder / "data"),
        "WANDB_SILENT": "true",
    }
    start = access_path.stat().st_size if access_path.exists() else 0
    path = f"{TEAM}/{PROJECT}/{RUN}"
    # CPU time as well as wall time: on a shared machine the wall time counts other work too.
    server_cpu, client_cpu = cpu_seconds(server_pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(
        [sys.executable, "-c", CLIENT, path, json.dumps(KEYS), str(page_size)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3_600,
        check=False,
    )
    server_cpu = cpu_seconds(server_pid) - server_cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = after.ru_utime + after.ru_stime - client_cpu.ru_utime - client_cpu.ru_stime
    if completed.returncode != 0:
        print(f"  page size {page_size}: the client failed:\n{completed.stderr[-3000:]}")
        return False
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    with open(access_path) as log:
        log.seek(start)
        page_ms = [
            int(line.split()[2]) / 1000
            for line in log
            if line.startswith("POST /graphql ") and len(line.split()) == 3
        ]
    # The scan's pages are most of its requests; the few lookups before it are kept in.
    rate = result["rows"] / result["seconds"]
    passed = result["rows"] == args.rows and result["ordered"] and rate >= TARGET
    print(
        f"  {page_size:>9,} {result['rows']:>10,} {result['seconds']:>8.2f} {rate:>10,.0f} "
        f"{len(page_ms):>6} {statistics.median(page_ms):>7.1f}ms "
        f"{percentile(page_ms, 95):>7.1f}ms {'>= ' + format(TARGET, ','):>10}  "
        f"{'yes' if passed else 'NO'}"
    )
    slowest = ", ".join(f"{ms:,.0f}" for ms in sorted(page_ms)[-3:])
    server = sum(page_ms) / 1000
    print(
        f"    server time of all its requests {server:.2f} s; slowest (ms): {slowest}\n"
        f"    server time per page {1000 * server / max(len(page_ms), 1):.1f} ms (mean); "
        f"the client's own time (wall minus server) {result['seconds'] - server:.2f} s\n"
        f"    {rate / BEFORE:.2f}x the {BEFORE:,} rows/s measured before RunKey (1M rows, "
        "page size 10,000)\n"
        f"    CPU seconds: server {server_cpu:.2f} (every request of the client), "
        f"client {client_cpu:.2f} (its whole process, Python and wandb-core, start-up too); "
        f"{result['rows'] / (server_cpu + client_cpu):,.0f} rows per CPU second"
    )
    if result["rows"] != args.rows or not result["ordered"]:
        print(f"    expected {args.rows:,} rows in step order; got {result}")
    return passed


# --- the child: one database, in this process's environment ----------------------------------


def child(args):
    django_child()
    from common import database_label
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import ApiKey
    from projects.services import project_create
    from runs.ingest import FileStreamUpdate, Rows, apply_file_stream
    from runs.tracking import run_upsert
    from teams import services

    call_command("migrate", verbosity=0, interactive=False)
    user = services.user_create(username=USER, email="bench@example.com")
    team = services.team_create(name=TEAM, creator=user)
    project_create(entity=team, name=PROJECT, creator=user)
    _, api_key = ApiKey.create_for(user=user, label="bench")
    run, _ = run_upsert(
        actor=user,
        entity_name=TEAM,
        project_name=PROJECT,
        run_id=RUN,
        username=None,
        fields={"displayName": RUN},
    )
    started = time.perf_counter()
    for first in range(0, args.rows, BATCH):
        steps = range(first, min(first + BATCH, args.rows))
        rows = Rows(keys={*KEYS, "_runtime", "_timestamp"}, end=steps[-1] + 1)
        for step in steps:
            rows.points += [
                ("loss", step, 1 / (step + 1)),
                ("acc", step, step / args.rows),
                ("lr", step, 0.001),
                ("_runtime", step, step * 0.05),
                ("_timestamp", step, 1_780_000_000 + step * 0.05),
            ]
        rows.max_runtime = steps[-1] * 0.05
        apply_file_stream(run, FileStreamUpdate(history=rows))
    seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    Path(args.out).write_text(
        json.dumps(
            {
                "api_key": api_key,
                "rows": args.rows,
                "seconds": seconds,
                "label": database_label(connection),
            }
        )
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the server is stopped")
        sys.exit(130)
