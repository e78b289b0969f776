"""Server time of grouping the runs table (runs.grouping) at 1,000,000 runs, on SQLite and
PostgreSQL. A standalone script, not a test: it prints its figures. See bench/README.md.

    .venv/bin/python bench/grouping.py                   # both databases, 1M runs
    .venv/bin/python bench/grouping.py --db sqlite       # one of them
    .venv/bin/python bench/grouping.py --runs 100000     # a smaller project (quicker)

The runs are written by one INSERT ... SELECT per database (a generated series), not through
the ORM, so that a million of them take seconds. Each database is measured in a child process
of its own, because the settings read DATABASE_URL once, at import.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from common import count_queries, database_version, percentile

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "teamsite_bench_grouping"
PG_BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
TARGET_MS = 500
WARMUP = 1

COLUMNS = (
    'run_id, name, state, config, summary, tags, notes, "group", job_type, git_remote,'
    " git_commit, program, host, created_at, project_id, console_line_count,"
    " events_line_count, history_line_count, metadata"
)
# A config and a summary of the size training scripts log: a dozen keys, one nested object.
SQLITE_INSERT = f"""
INSERT INTO runs_run ({COLUMNS})
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %s - 1)
SELECT printf('r%%07d', i), printf('run-%%d', i),
  CASE i %% 4 WHEN 0 THEN 'failed' ELSE 'finished' END,
  json_object('optimizer', CASE i %% 3 WHEN 0 THEN 'adam' WHEN 1 THEN 'sgd' ELSE 'adamw' END,
    'lr', (i %% 5) * 0.001 + 0.001, 'batch_size', 32 * (1 + i %% 4), 'epochs', 10 + i %% 7,
    'model', json_object('depth', 18 + (i %% 3) * 16, 'width', 64), 'dropout', (i %% 10) / 20.0,
    'seed', i, 'dataset', 'imagenet', 'warmup_steps', 500, 'weight_decay', 0.0001,
    'scheduler', 'cosine', 'augment', json('true')),
  json_object('loss', (i %% 1000) / 1000.0, 'val/acc', (i %% 997) / 997.0,
    'val/loss', (i %% 991) / 991.0, 'epoch', 10, '_runtime', i %% 3600, '_step', 1000,
    '_timestamp', 1700000000 + i),
  CASE i %% 5 WHEN 0 THEN '["baseline"]' WHEN 1 THEN '["v2", "sweep"]' ELSE '[]' END,
  '', printf('exp-%%d', i %% 20), CASE i %% 2 WHEN 0 THEN 'train' ELSE 'eval' END,
  '', '', '', '', datetime('2026-01-01', printf('+%%d seconds', i)), %s, 0, 0, 0, '{{}}'
FROM n
"""
POSTGRES_INSERT = f"""
INSERT INTO runs_run ({COLUMNS})
SELECT 'r' || lpad(i::text, 7, '0'), 'run-' || i,
  CASE i %% 4 WHEN 0 THEN 'failed' ELSE 'finished' END,
  jsonb_build_object('optimizer', (ARRAY['adam', 'sgd', 'adamw'])[i %% 3 + 1],
    'lr', (i %% 5) * 0.001 + 0.001, 'batch_size', 32 * (1 + i %% 4), 'epochs', 10 + i %% 7,
    'model', jsonb_build_object('depth', 18 + (i %% 3) * 16, 'width', 64),
    'dropout', (i %% 10) / 20.0, 'seed', i, 'dataset', 'imagenet', 'warmup_steps', 500,
    'weight_decay', 0.0001, 'scheduler', 'cosine', 'augment', true),
  jsonb_build_object('loss', (i %% 1000) / 1000.0, 'val/acc', (i %% 997) / 997.0,
    'val/loss', (i %% 991) / 991.0, 'epoch', 10, '_runtime', i %% 3600, '_step', 1000,
    '_timestamp', 1700000000 + i),
  CASE i %% 5 WHEN 0 THEN '["baseline"]'::jsonb WHEN 1 THEN '["v2", "sweep"]'::jsonb
    ELSE '[]'::jsonb END,
  '', 'exp-' || (i %% 20), CASE i %% 2 WHEN 0 THEN 'train' ELSE 'eval' END,
  '', '', '', '', timestamptz '2026-01-01' + i * interval '1 second', %s, 0, 0, 0, '{{}}'
FROM generate_series(0, %s - 1) AS i
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1_000_000, help="runs in the project")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per case")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    failed = False
    for database in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        results = run_child(database, args)
        if results is None:
            failed = True
            continue
        print_table(results)
        failed |= not all(row["ok"] for row in results["rows"] if row["target"])
    return 1 if failed else 0


def run_child(database, args):
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-") as tmp:
        if database == "sqlite":
            url = f"sqlite:///{tmp}/bench.sqlite3"
        else:
            url = PG_BENCH_URL
            pg_admin(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
            pg_admin(f"CREATE DATABASE {PG_BENCH_DB}")
        out = Path(tmp) / "results.json"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "teamsite.settings",
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DATABASE_URL": url,
            "ALLOWED_HOSTS": "testserver",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "LOG_LEVEL": "WARNING",
            "BENCH_OUT": str(out),
        }
        command = [sys.executable, __file__, "--child", "--runs", str(args.runs)]
        command += ["--repeat", str(args.repeat)]
        try:
            completed = subprocess.run(command, env=env, cwd=ROOT, check=False)
            if completed.returncode != 0 or not out.exists():
                print(f"{database}: the benchmark failed (exit {completed.returncode})")
                return None
            return json.loads(out.read_text())
        finally:
            if database == "postgres":
                pg_admin(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")


def pg_admin(sql):
    import psycopg

    with psycopg.connect(PG_ADMIN_URL) as connection:
        connection.autocommit = True
        connection.execute(sql)


def print_table(results):
    print()
    print(f"{results['vendor']} {results['version']}: {results['runs']:,} runs in one project")
    print(f"  setup: migrate {results['migrate_s']:.1f} s, create runs {results['create_s']:.1f} s")
    head = f"  {'case':<52} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'target':>8}  ok"
    print(head)
    print("  " + "-" * (len(head) - 2))
    for row in results["rows"]:
        target = f"<= {row['target']}" if row["target"] else "-"
        ok = ("yes" if row["ok"] else "NO") if row["target"] else ""
        print(
            f"  {row['case']:<52} {row['median']:>10.1f} {row['p95']:>8.1f}"
            f" {row['queries']:>8} {target:>8}  {ok}"
        )


def child(args):
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from projects.services import project_create
    from runs import grouping
    from runs.models import Run
    from teams import services

    assert not settings.DEBUG, "measure with DEBUG off"
    results = {
        "vendor": connection.vendor,
        "version": database_version(connection),
        "runs": args.runs,
        "rows": [],
    }
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    results["migrate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    alice = services.user_create(username="alice", email="alice@example.com")
    team = services.team_create(name="bench-team", creator=alice)
    project = project_create(entity=team, name="sweep", creator=alice)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_INSERT, [project.pk, args.runs])
            cursor.execute("VACUUM ANALYZE runs_run")
        else:
            cursor.execute(SQLITE_INSERT, [args.runs, project.pk])
    results["create_s"] = time.perf_counter() - started
    print(f"  {connection.vendor}: {args.runs:,} runs in {results['create_s']:.1f} s")

    def timed(case, call, target=None):
        for _ in range(WARMUP):
            call()
        with count_queries(connection) as queries:
            call()
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        median, p95 = statistics.median(samples), percentile(samples, 95)
        results["rows"].append(
            {
                "case": case,
                "median": median,
                "p95": p95,
                "queries": queries.count,
                "target": target,
                "ok": target is None or p95 <= target,
            }
        )
        print(f"  {connection.vendor}: {case}: median {median:.1f} ms, p95 {p95:.1f} ms")

    runs = Run.objects.filter(project=project)
    metrics = ["summary.loss", "summary.val/acc", "summary.val/loss", "summary.epoch"]

    def group(*fields, metrics=(), within=runs):
        keys = [grouping.GroupKey(field) for field in fields]
        return lambda: grouping.group_rows(within, keys, list(metrics), grouping.MAX_GROUPS + 1)

    timed("group_rows: config.optimizer", group("config.optimizer"), TARGET_MS)
    timed("group_rows: config.optimizer + 4 metrics", group("config.optimizer", metrics=metrics))
    timed("group_rows: config.model.depth (nested)", group("config.model.depth"))
    timed("group_rows: tags", group("tags"))
    timed(
        "group_rows: config.lr, job_type + 4 metrics",
        group("config.lr", "job_type", metrics=metrics),
    )
    timed(
        "group_rows: config.optimizer, state=failed",
        group("config.optimizer", within=runs.filter(state="failed")),
    )

    client = Client()
    client.force_login(alice)
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        url = project.get_absolute_url()

        def page(query):
            def call():
                response = client.get(
                    url + query, headers={"HX-Request": "true", "HX-Target": "runs-region"}
                )
                assert response.status_code == 200 and b"grouped-table" in response.content

            return call

        timed(
            "table (htmx region): ?group=config.optimizer&col=summary.loss",
            page("?group=config.optimizer&col=summary.loss"),
        )

    Path(os.environ["BENCH_OUT"]).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
