"""Server time of the runs table at 100,000 runs, and of moving 10,000 runs, on SQLite and
PostgreSQL. A standalone script, not a test: it prints its figures. See bench/README.md.

    .venv/bin/python bench/runs_table.py                 # both databases
    .venv/bin/python bench/runs_table.py --db sqlite     # one of them
    .venv/bin/python bench/runs_table.py --runs 20000    # a smaller project (quicker)

Each database is measured in a child process of its own, because the settings read
DATABASE_URL once, at import.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from common import (
    PG_ADMIN_URL,
    PG_SERVER,
    SETTINGS_ENV,
    count_queries,
    database_version,
    django_child,
    percentile,
    pg_admin,
)

ROOT = Path(__file__).resolve().parent.parent
PG_BENCH_DB = "teamsite_bench"
PG_BENCH_URL = f"{PG_SERVER}/{PG_BENCH_DB}"
KEPT = Path(__file__).resolve().parent / ".data"  # --keep's SQLite files

PAGE_TARGET_MS = 150
GROUP_TARGET_MS = 500
MOVE_TARGET_MS = 1000
AUTHORS = 10  # round-robin, so one author's runs are exactly a tenth of the project
BATCH = 5_000
WARMUP = 2

ADJECTIVES = ["brisk", "calm", "dark", "eager", "fancy", "gentle", "happy", "icy", "jolly", "keen"]
NOUNS = ["river", "forest", "comet", "meadow", "ember", "glade", "harbor", "island", "lake", "moon"]
TAGS = ["baseline", "sweep", "augment", "lr-search", "ablation", "v2"]


# --- the parent: one child process per database, then the tables ---------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1_000_000, help="runs in the project")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per case")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sqlite-analyze", action="store_true", help="ANALYZE SQLite too")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the project (SQLite: bench/.data/, PostgreSQL: teamsite_bench_<runs>) and "
        "reuse it when run again with as many runs",
    )
    args = parser.parse_args()
    if args.child:
        return child(args)
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    failed = False
    for database in databases:
        results = run_child(database, args)
        if results is None:
            failed = True
            continue
        print_table(results)
        failed |= not all(row["ok"] for row in results["rows"])
    return 1 if failed else 0


def run_child(database, args):
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-") as tmp:
        pg_database = f"{PG_BENCH_DB}_{args.runs}" if args.keep else PG_BENCH_DB
        if database == "sqlite" and args.keep:
            KEPT.mkdir(exist_ok=True)
            url = f"sqlite:///{KEPT}/runs_table-{args.runs}.sqlite3"
        elif database == "sqlite":
            url = f"sqlite:///{tmp}/bench.sqlite3"
        else:
            url = PG_BENCH_URL.replace(PG_BENCH_DB, pg_database)
            if not args.keep:
                pg_admin(f"DROP DATABASE IF EXISTS {pg_database}")
            if not pg_database_exists(pg_database):
                pg_admin(f"CREATE DATABASE {pg_database}")
        out = Path(tmp) / "results.json"
        env = {
            **os.environ,
            **SETTINGS_ENV,
            "DATABASE_URL": url,
            "BENCH_OUT": str(out),
        }
        command = [sys.executable, __file__, "--child", "--runs", str(args.runs)]
        command += ["--repeat", str(args.repeat)]
        if args.sqlite_analyze:
            command.append("--sqlite-analyze")
        if args.keep:
            command.append("--keep")
        try:
            completed = subprocess.run(command, env=env, cwd=ROOT, check=False)
            if completed.returncode != 0 or not out.exists():
                print(f"{database}: the benchmark failed (exit {completed.returncode})")
                return None
            return json.loads(out.read_text())
        finally:
            if database == "postgres" and not args.keep:
                pg_admin(f"DROP DATABASE IF EXISTS {pg_database} WITH (FORCE)")


def pg_database_exists(name) -> bool:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://")) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def print_table(results):
    print()
    print(f"{results['vendor']} {results['version']}: {results['runs']:,} runs in one project")
    print(f"  setup: migrate {results['migrate_s']:.1f} s, create runs {results['create_s']:.1f} s")
    head = f"  {'case':<62} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'target':>10}  ok"
    print(head)
    print("  " + "-" * (len(head) - 2))
    for row in results["rows"]:
        print(
            f"  {row['case']:<62} {row['median']:>10.1f} {row['p95']:>8.1f} "
            f"{row['queries']:>8} {'<= ' + str(row['target']):>10}  {'yes' if row['ok'] else 'NO'}"
        )
    for note in results["notes"]:
        print(f"  {note}")


# --- the child: one database, set up in this process's environment --------------------------


def child(args):
    django_child()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from runs.selectors import PAGE_SIZE

    results = {
        "vendor": connection.vendor,
        "version": database_version(connection),
        "runs": args.runs,
        "rows": [],
        "notes": [],
    }

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    results["migrate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    world = (kept_world(args.runs) if args.keep else None) or create_world(args.runs)
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: statistics, and the visibility map that
        # lets COUNT(*) read an index alone.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    elif args.sqlite_analyze:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    results["create_s"] = time.perf_counter() - started

    client = Client()
    client.force_login(world["alice"])
    project = world["project"]
    base = project.get_absolute_url()

    def timed(case, request, target, repeat=args.repeat, warmup=WARMUP, check=None):
        for _ in range(warmup):
            request()
        with count_queries(connection) as queries:
            response = request()
        if check:
            check(response)
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            request()
            samples.append((time.perf_counter() - started) * 1000)
        median, p95 = statistics.median(samples), percentile(samples, 95)
        results["rows"].append(
            {
                "case": case,
                "median": median,
                "p95": p95,
                "queries": queries.count,
                "target": target,
                "ok": p95 <= target,
            }
        )
        print(f"  {connection.vendor}: {case}: median {median:.1f} ms, p95 {p95:.1f} ms")

    def page(query="", *, rows=PAGE_SIZE):
        def request():
            response = client.get(base + query)
            assert response.status_code == 200, (query, response.status_code)
            return response

        def check(response):
            found = response.content.count(b'name="run"')
            assert 0 < found <= rows, f"{query}: {found} rows, expected up to {rows}"

        return request, check

    # Static files as in the tests: no collectstatic manifest is needed to render.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        deep = args.runs - 1_000
        cases = [
            ("first page", ""),
            (f"deep page (after {deep:,} runs)", deep_cursor(project, "-created", deep)),
            ("sort=-summary.loss, first page", "?sort=-summary.loss"),
            (
                f"sort=-summary.loss, deep page (after {deep:,})",
                deep_cursor(project, "-summary.loss", deep),
            ),
            ("sort=config.lr, first page", "?sort=config.lr"),
            (
                f"sort=config.optimizer, deep page (after {deep:,})",
                deep_cursor(project, "config.optimizer", deep),
            ),
            ("state=failed", "?state=failed"),
            ("tag=ablation", "?tag=ablation"),
            ("q=comet", "?q=comet"),
            ("state=failed&tag=ablation&q=comet", "?state=failed&tag=ablation&q=comet"),
        ]
        # The query language over config and summary keys: broad and narrow filters, alone,
        # combined, and sorted by another key.
        cases += [
            (f"q={text}" + (f", sort={order}" if order else ""), query_string(text, order))
            for text, order in [
                ("config.lr <= 0.0003", ""),
                ("summary.loss < 0.1", ""),
                ("summary.loss < 0.1", "-summary.val/accuracy"),
                ('config.optimizer = "sgd" and summary.val/accuracy > 0.8', "-summary.loss"),
                ("config.batch_size in (32, 128) and not state = failed", "config.lr"),
                ("summary.rare exists", "-summary.loss"),
                ("summary.loss > 1.9 or config.epochs = 7", "-created"),
            ]
        ]
        for case, query in cases:
            request, check = page(query)
            timed(case, request, PAGE_TARGET_MS, check=check)

        # Grouping by config keys: the grouped query alone, and the grouped table's page.
        for case, call in grouping_cases(project):
            timed(case, call, GROUP_TARGET_MS)
        request, _ = page("?group=config.optimizer&col=summary.loss")
        timed("page ?group=config.optimizer&col=summary.loss", request, GROUP_TARGET_MS)

        # Moving: every run of one author (a select-by-filter queryset), back and forth.
        results["rows"].append(measure_moves(world, results, connection))
        results["rows"].append(measure_move_view(world, client, connection))

    Path(os.environ["BENCH_OUT"]).write_text(json.dumps(results))
    return 0


def create_world(count):
    from django.db import transaction
    from django.utils import timezone

    from projects.services import project_create
    from runs.models import Run
    from teams import services
    from teams.models import Role

    rng = random.Random(7)
    alice = services.user_create(username="alice", email="alice@example.com")
    team = services.team_create(name="bench-team", creator=alice)
    authors = [alice]
    for number in range(1, AUTHORS):
        user = services.user_create(username=f"author{number}", email=f"a{number}@example.com")
        services.membership_add(entity=team, user=user, role=Role.MEMBER, actor=alice)
        authors.append(user)
    project = project_create(entity=team, name="resnet", creator=alice)
    other = project_create(entity=team, name="archive", creator=alice)
    states = [Run.State.FINISHED] * 6 + [Run.State.FAILED, Run.State.CRASHED, Run.State.RUNNING]
    start = timezone.now() - timedelta(days=365)
    for batch_start in range(0, count, BATCH):
        runs = []
        for index in range(batch_start, min(count, batch_start + BATCH)):
            lr = rng.choice([1e-4, 3e-4, 1e-3, 3e-3])
            epochs = rng.randint(5, 50)
            state = rng.choice(states)
            loss = round(rng.uniform(0.05, 2.0) * (1 + lr * 100), 4)
            created = start + timedelta(seconds=index * 300 + rng.randint(0, 200))
            runtime = epochs * rng.uniform(30, 120)
            heartbeat = created + timedelta(seconds=runtime)
            summary = {
                "loss": loss,
                "val/accuracy": round(max(0.0, 1 - loss / 3 + rng.uniform(-0.05, 0.05)), 4),
                "epoch": epochs,
            }
            if index % 50 == 0:
                del summary["loss"]  # some runs never logged it: sorted last
            if index % 10_000 == 0:
                summary["rare"] = index  # a key a handful of runs have
            runs.append(
                Run(
                    project=project,
                    # A bijection of the index (odd multiplier mod 2**32): unique, random-looking.
                    run_id=f"{(index * 2654435761) % 2**32:08x}",
                    name=f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}-{index + 1}",
                    author=authors[index % AUTHORS],
                    state=state,
                    config={
                        "lr": lr,
                        "batch_size": rng.choice([32, 64, 128]),
                        "epochs": epochs,
                        "optimizer": rng.choice(["adamw", "sgd"]),
                    },
                    summary=summary,
                    tags=rng.sample(TAGS, rng.randint(0, 2)),
                    group=f"sweep-{index // 25 + 1}",
                    job_type="train",
                    host=f"gpu-node-{rng.randint(1, 8)}",
                    program="train.py",
                    git_commit=f"{rng.getrandbits(160):040x}",
                    git_remote="https://github.com/example/models.git",
                    created_at=created,
                    heartbeat_at=heartbeat,
                    finished_at=None if state == "running" else heartbeat,
                    runtime=runtime,
                    exit_code=None if state == "running" else int(state != "finished"),
                )
            )
        with transaction.atomic():
            Run.objects.bulk_create(runs)
    return {"alice": alice, "team": team, "project": project, "other": other, "authors": authors}


def grouping_cases(project):
    """(case, call) of runs.grouping.group_rows as the grouped table calls it."""
    from runs import grouping
    from runs.models import Run
    from runs.selectors import RunFilter

    def group(fields, metrics=(), q=""):
        keys, error = grouping.parse_group_keys({"group": ",".join(fields)}, project)
        assert not error, error
        run_filter = RunFilter(q=q)
        runs = run_filter.apply(Run.objects.filter(project=project))

        def call():
            rows = grouping.group_rows(
                runs,
                keys,
                list(metrics),
                grouping.MAX_GROUPS + 1,
                project=project,
                filtered=run_filter.is_active,
            )
            assert rows, fields
            return rows

        return call

    return [
        ("group_rows config.optimizer", group(["config.optimizer"])),
        (
            "group_rows config.optimizer, 1 metric",
            group(["config.optimizer"], ["summary.loss"]),
        ),
        (
            "group_rows config.lr, 2 metrics",
            group(["config.lr"], ["summary.loss", "summary.val/accuracy"]),
        ),
        ("group_rows config.lr, q=state = failed", group(["config.lr"], q="state = failed")),
        (
            "group_rows config.optimizer + config.batch_size",
            group(["config.optimizer", "config.batch_size"]),
        ),
    ]


def query_string(text, order):
    from urllib.parse import urlencode

    return "?" + urlencode({"q": text, **({"sort": order} if order else {})})


def kept_world(count):
    """The world a previous run with --keep made, if it has `count` runs."""
    from django.contrib.auth import get_user_model

    from projects.models import Project
    from runs.models import Run
    from teams.models import Entity

    project = Project.objects.filter(name="resnet").first()
    if project is None:
        return None
    team = Entity.objects.get(name="bench-team")
    other = Project.objects.get(entity=team, name="archive")
    # A run stopped midway may have left runs moved out: they come back.
    Run.objects.filter(project=other).update(project=project)
    if Run.objects.filter(project=project).count() != count:
        raise SystemExit(f"The kept project does not have {count:,} runs: delete it and rerun.")
    users = {user.username: user for user in get_user_model().objects.all()}
    authors = [users["alice"], *(users[f"author{number}"] for number in range(1, AUTHORS))]
    return {
        "alice": users["alice"],
        "team": team,
        "project": project,
        "other": other,
        "authors": authors,
    }


def deep_cursor(project, sort_value, position):
    """The query string of the page after the first `position` runs in this sort order."""
    from urllib.parse import urlencode

    from runs import key_order, selectors
    from runs.selectors import RunFilter, Sort

    sort = Sort.parse(sort_value)
    runs = RunFilter().apply(selectors.runs_for_table(project))
    if sort.key in selectors.BASE_SORTS:
        row = selectors._ordered(runs, sort)[position - 1]
        cursor = selectors.encode_cursor(sort, row, "next")
    else:
        positions = key_order.page_positions(
            runs,
            project=project,
            key=key_order.key_id(*selectors.json_column_key(sort.key)),
            descending=sort.descending,
            limit=position,
        )
        cursor = selectors.encode_key_cursor(sort, positions[-1], "next")
    return "?" + urlencode({"sort": str(sort), "cursor": cursor})


def measure_moves(world, results, connection, repeat=6):
    """runs_move of one author's failed runs (a ninth of their tenth: about 11,000 of a million
    runs), selected by the author and state filters, alternately to the
    other project and back: each move is one transaction."""
    from runs import selectors, services
    from runs.models import Run
    from runs.selectors import RunFilter

    alice, project, other = world["alice"], world["project"], world["other"]
    author = world["authors"][3].username
    moved_count = Run.objects.filter(
        project=project, author__username=author, state=Run.State.FAILED
    ).count()
    samples, queries = [], None
    source, target = project, other
    for attempt in range(repeat):
        run_filter = RunFilter(author=author, state=Run.State.FAILED)
        runs = selectors.selected_runs(source, run_ids=None, run_filter=run_filter)
        with count_queries(connection) as captured:
            started = time.perf_counter()
            moved = services.runs_move(actor=alice, source=source, runs=runs, target=target)
            elapsed = (time.perf_counter() - started) * 1000
        assert moved == moved_count, (moved, moved_count)
        samples.append(elapsed)
        queries = captured.count if queries is None else queries
        source, target = target, source
        print(f"  {connection.vendor}: move {moved:,} runs #{attempt + 1}: {elapsed:.0f} ms")
    results["notes"].append(
        f"move: runs_move of {moved_count:,} runs (author and state filters), {repeat} times, "
        "alternately "
        "to another project and back; each one transaction"
    )
    median, p95 = statistics.median(samples), percentile(samples, 95)
    return {
        "case": f"move {moved_count:,} runs (runs_move)",
        "median": median,
        "p95": p95,
        "queries": queries,
        "target": MOVE_TARGET_MS,
        "ok": p95 <= MOVE_TARGET_MS,
    }


def measure_move_view(world, client, connection, repeat=3):
    """The same move through the view: the bulk form's POST with "select all matching"."""
    from django.urls import reverse

    from runs.models import Run

    author = world["authors"][4].username
    projects = [world["project"], world["other"]]
    count = Run.objects.filter(
        project=projects[0], author__username=author, state=Run.State.FAILED
    ).count()
    samples, queries = [], None
    for attempt in range(repeat * 2):
        source, target = projects[attempt % 2], projects[(attempt + 1) % 2]
        url = reverse("runs:move", args=[source.entity.name, source.name])
        data = {"select_all": "1", "author": author, "state": "failed", "target": target.path}
        with count_queries(connection) as captured:
            started = time.perf_counter()
            response = client.post(url, data)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 302, response.status_code
        assert response["Location"] == target.get_absolute_url(), response["Location"]
        assert not Run.objects.filter(
            project=source, author__username=author, state=Run.State.FAILED
        ).exists()
        samples.append(elapsed)
        queries = captured.count if queries is None else queries
    median, p95 = statistics.median(samples), percentile(samples, 95)
    return {
        "case": f"move {count:,} runs (POST, select all)",
        "median": median,
        "p95": p95,
        "queries": queries,
        "target": MOVE_TARGET_MS,
        "ok": p95 <= MOVE_TARGET_MS,
    }


if __name__ == "__main__":
    sys.exit(main())
