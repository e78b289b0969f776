"""Server time of an artifact version's lineage page in a project of 1,000 versions and 1,000
runs. A standalone script, not a test: it prints its figures and exits non-zero when the widest
case misses its target. See bench/README.md.

    .venv/bin/python bench/lineage.py                  # 1,000 versions, 1,000 runs
    .venv/bin/python bench/lineage.py --runs 200       # a quick look
    .venv/bin/python bench/lineage.py --profile        # and where the time goes
    .venv/bin/python bench/lineage.py --postgres       # PostgreSQL, not SQLite

The project: run 0 logs the dataset corpus:v0; every later run i uses corpus:v0 and the model
version before its own, and logs model:v(i-1). So corpus:v0 has every run downstream (its layers
are capped at artifacts.lineage.LAYER_NODES), and a model version in the middle a long chain
upstream and downstream. The database (SQLite in a temporary file, or with --postgres a
PostgreSQL database of its own, created and dropped) is set up in a child process, because the
settings read DATABASE_URL once, at import.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    PG_SERVER,
    SETTINGS_ENV,
    count_queries,
    database_label,
    django_child,
    percentile,
    pg_admin,
    profile_text,
)

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 200
WARMUP = 2
USER, TEAM, PROJECT = "alice", "bench-team", "lineage"
PG_BENCH_DB = "teamsite_benchlineage"
PROFILE_FOCUS = (
    r"artifacts/|compiler.py.*execute_sql|django/template/(base|loader_tags|defaulttags)"
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs (and artifact versions)")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per case")
    parser.add_argument("--profile", action="store_true", help="profile each case once")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--pg-database",
        default=PG_BENCH_DB,
        help="the PostgreSQL database to create and drop (one of its own per concurrent run)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-lineage-") as tmp:
        database = args.pg_database
        url = f"{PG_SERVER}/{database}" if args.postgres else f"sqlite:///{tmp}/bench.sqlite3"
        env = {**os.environ, **SETTINGS_ENV, "DATABASE_URL": url, "MEDIA_ROOT": f"{tmp}/media"}
        command = [sys.executable, __file__, "--child", *sys.argv[1:]]
        if not args.postgres:
            return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode
        pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {database}")
        try:
            return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode
        finally:
            pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def child(args):
    django_child()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    print(
        f"lineage page: {args.runs:,} runs, {args.runs:,} artifact versions; "
        f"{database_label(connection)}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    world = create_world(args.runs)
    print(f"  setup: {time.perf_counter() - started:.1f} s")
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        ok = measure(world, args)
    return 0 if ok else 1


def create_world(count: int):
    """The runs and versions written with bulk_create: the page reads rows, not files."""
    from django.db import transaction

    from artifacts.models import Artifact, ArtifactAlias, ArtifactCollection
    from projects.services import project_create
    from runs.models import Run
    from teams import services

    alice = services.user_create(username=USER, email="alice@example.com")
    team = services.team_create(name=TEAM, creator=alice)
    project = project_create(entity=team, name=PROJECT, creator=alice)
    with transaction.atomic():
        runs = Run.objects.bulk_create(
            Run(project=project, run_id=f"run{i:05d}", name=f"run-{i}", author=alice)
            for i in range(count)
        )
        corpus, model = ArtifactCollection.objects.bulk_create(
            [
                ArtifactCollection(project=project, name="corpus", type="dataset"),
                ArtifactCollection(project=project, name="model", type="model"),
            ]
        )
        committed = Artifact.State.COMMITTED
        versions = Artifact.objects.bulk_create(
            [Artifact(collection=corpus, version_index=0, digest="c0", state=committed,
                      created_by_run=runs[0])]
            + [
                Artifact(collection=model, version_index=i - 1, digest=f"m{i}", state=committed,
                         created_by_run=runs[i])
                for i in range(1, count)
            ]
        )  # fmt: skip
        used = Artifact.used_by.through
        rows = [used(artifact_id=versions[0].pk, run_id=run.pk) for run in runs[1:]]
        rows += [used(artifact_id=versions[i - 1].pk, run_id=runs[i].pk) for i in range(2, count)]
        used.objects.bulk_create(rows, batch_size=2000)
        ArtifactAlias.objects.create(collection=model, artifact=versions[-1], alias="latest")
    return {"user": alice, "project": project, "middle": f"v{count // 2}"}


def measure(world, args):
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(world["user"])
    rows, profiles = [], []

    def url(type_name, name, version, hops):
        args_ = [TEAM, PROJECT, type_name, name, version]
        return reverse("artifacts:lineage", args=args_) + f"?hops={hops}"

    def timed(case, target_url, target=None):
        def get():
            response = client.get(target_url)
            assert response.status_code == 200, (target_url, response.status_code)
            return response

        for _ in range(WARMUP):
            get()
        with count_queries(connection) as queries:
            response = get()
        graph = response.context["graph"] if response.context else None
        nodes = len(graph.nodes) if graph else response.content.decode().count("lineage-node ")
        samples, cpu = [], []
        for _ in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            get()
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        median, p95 = statistics.median(samples), percentile(samples, 95)
        ok = target is None or median <= target
        size = len(response.content)
        rows.append((case, median, p95, statistics.median(cpu), queries.count, size, nodes, ok))
        print(f"  {case}: median {median:.1f} ms, p95 {p95:.1f} ms")
        if args.profile:
            profiles.append((case, profile_text(get, PROFILE_FOCUS, 16)))
        return ok, target

    results = [
        timed("corpus:v0, 2 hops (every run downstream)", url("dataset", "corpus", "v0", 2),
              TARGET_MS),
        timed("corpus:v0, 6 hops", url("dataset", "corpus", "v0", 6), TARGET_MS),
        timed(f"model:{world['middle']}, 2 hops", url("model", "model", world["middle"], 2),
              TARGET_MS),
        timed(f"model:{world['middle']}, 6 hops (a chain)",
              url("model", "model", world["middle"], 6), TARGET_MS),
    ]  # fmt: skip
    print()
    head = (
        f"  {'case':<44} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'queries':>8} "
        f"{'KB':>5} {'nodes':>6}  ok"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    for case, median, p95, cpu, queries, size, nodes, row_ok in rows:
        print(
            f"  {case:<44} {median:>10.1f} {p95:>8.1f} {cpu:>7.1f} {queries:>8} "
            f"{size / 1024:>5.0f} {nodes:>6}  {'yes' if row_ok else 'NO'}"
        )
    print(f"  target: each case's median server time <= {TARGET_MS} ms (DEBUG off, warm)")
    print(f"  load average {os.getloadavg()[0]:.2f}")
    for case, text in profiles:
        print(f"\nprofile: {case}\n{text}")
    return all(ok for ok, _ in results)


if __name__ == "__main__":
    sys.exit(main())
