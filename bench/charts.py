"""Server time of chart data: one metric of a run with 1,000,000 points, and a workspace of 20
runs x 10 metrics x 100,000 points, on SQLite and PostgreSQL. A standalone script, not a test:
it prints its figures. See bench/README.md.

    .venv/bin/python bench/charts.py                       # both databases
    .venv/bin/python bench/charts.py --sqlite-only         # or --postgres-only
    .venv/bin/python bench/charts.py --points 200000 --workspace-points 20000 --repeat 5

Each database is loaded and measured in a child process of its own, because the settings read
DATABASE_URL once, at import.
"""

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
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
PG_BENCH_DB = "teamsite_bench_charts"
PG_BENCH_URL = f"{PG_SERVER}/{PG_BENCH_DB}"

METRIC_TARGET_MS = 100  # one metric of one run, at 1,000,000 points
WARMUP = 2
RAW_REPEAT = 5  # the raw read of every point takes seconds: fewer samples
USER, TEAM, PROJECT = "bench", "bench-team", "charts"
BIG_RUN = "big-run"
BIG_KEY = "loss"
WORKSPACE_RUNS = 20  # runs.views.MAX_WORKSPACE_RUNS
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
# The server stores these as points of every history line too, and each chart reads them back
# for the steps it returns (charts._times).
RUNTIME, TIMESTAMP = "_runtime", "_timestamp"
# Lines per write_tiles call: a multiple of the widest tile (4096), so no tile is split between
# calls. The stored tiles are the same whatever the split; this only saves merge work.
TILE_CHUNK_LINES = 4096
# PostgreSQL: connections inserting points at once, beside the one writing tiles (2 cores here).
POINT_WORKERS = 2


# --- the parent: one child process per database, then the tables ----------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    parser.add_argument(
        "--points", type=int, default=1_000_000, help="points of the one-metric run"
    )
    parser.add_argument(
        "--workspace-points",
        type=int,
        default=100_000,
        help=f"points of each of the {len(METRICS)} metrics of each of the "
        f"{WORKSPACE_RUNS} workspace runs",
    )
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per case")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print a cProfile of every view case (cases that miss their target always are)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    databases = ["sqlite", "postgres"]
    if args.sqlite_only:
        databases = ["sqlite"]
    elif args.postgres_only:
        databases = ["postgres"]
    workspace_total = WORKSPACE_RUNS * len(METRICS) * args.workspace_points
    print(
        f"charts: one run with {args.points:,} points of `{BIG_KEY}`; a workspace of "
        f"{WORKSPACE_RUNS} runs x {len(METRICS)} metrics x {args.workspace_points:,} points "
        f"= {workspace_total:,} points; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    failed = False
    all_results = []
    for database in databases:
        results = run_child(database, args)
        if results is None:
            failed = True
            continue
        all_results.append(results)
        print_table(results)
        failed |= not all(row["ok"] for row in results["rows"] if row["target"] is not None)
    if len(all_results) > 1:
        # Printed again at the end, together, since the children's progress lines are between.
        for results in all_results:
            print_table(results, profiles=False)
    return 1 if failed else 0


def run_child(database, args):
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-charts-") as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3" if database == "sqlite" else PG_BENCH_URL
        out = Path(tmp) / "results.json"
        env = {**os.environ, **SETTINGS_ENV, "DATABASE_URL": url, "BENCH_OUT": str(out)}
        # WhiteNoise warns that there is no collectstatic output; no page uses it here.
        env["PYTHONWARNINGS"] = "ignore:No directory at"
        command = [sys.executable, __file__, "--child", "--repeat", str(args.repeat)]
        command += ["--points", str(args.points), "--workspace-points", str(args.workspace_points)]
        if args.profile:
            command.append("--profile")
        try:
            if database == "postgres":
                pg_admin(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
                pg_admin(f"CREATE DATABASE {PG_BENCH_DB}")
            completed = subprocess.run(command, env=env, cwd=ROOT, check=False)
            if completed.returncode != 0 or not out.exists():
                print(f"{database}: the benchmark failed (exit {completed.returncode})")
                return None
            results = json.loads(out.read_text())
            results["wall_s"] = time.perf_counter() - started
            return results
        except Exception as error:
            print(f"{database}: the benchmark failed: {error}")
            return None
        finally:
            if database == "postgres":
                try:
                    pg_admin(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
                except Exception as error:
                    print(f"postgres: could not drop {PG_BENCH_DB}: {error}")


def print_table(results, *, profiles=True):
    load = results["load"]
    print()
    print(
        f"{results['label']}: one run with {results['points']:,} points of `{BIG_KEY}`; "
        f"workspace {WORKSPACE_RUNS} runs x {len(METRICS)} metrics x "
        f"{results['workspace_points']:,} points"
    )
    print(
        f"  load: migrate {load['migrate_s']:.1f} s; {load['point_rows']:,} point rows in "
        f"{load['points_s']:.1f} s ({load['point_rows'] / load['points_s'] / 1e6:.2f}M rows/s); "
        f"{load['tile_rows']:,} tiles (write_tiles of the same points) in {load['tiles_s']:.1f} s"
    )
    extra = f", {load['vacuum_label']} {load['vacuum_s']:.1f} s" if load.get("vacuum_s") else ""
    print(
        f"        {load['mode']}: wall {load['wall_s']:.1f} s{extra}; "
        f"check {load['check_s']:.1f} s; database {load['size_mb']:,.0f} MB; "
        f"whole child process {results['wall_s']:.0f} s"
    )
    head = (
        f"  {'case':<52} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'full GCs':>8} "
        f"{'points':>9} {'JSON KB':>8} {'target':>8}  ok"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    section = None
    for row in results["rows"]:
        if row["section"] != section:
            section = row["section"]
            print(f"  {section}")
        target = "" if row["target"] is None else f"<= {row['target']}"
        ok = "" if row["target"] is None else ("yes" if row["ok"] else "NO")
        size = "" if row["json_kb"] is None else f"{row['json_kb']:.1f}"
        print(
            f"    {row['case']:<50} {row['median']:>10.1f} {row['p95']:>8.1f} "
            f"{row['queries']:>8} {row['full_gcs']:>8} {row['points']:>9,} {size:>8} "
            f"{target:>8}  {ok}"
        )
    for note in results["notes"]:
        print(f"  {note}")
    for profile in results["profiles"] if profiles else []:
        print(f"\n  cProfile of one request, {profile['case']} ({results['label']}):")
        print("    " + profile["text"].rstrip().replace("\n", "\n    "))


# --- the child: one database, set up in this process's environment --------------------------


def child(args):
    django_child()

    from django.core.management import call_command
    from django.db import connection

    results = {
        "vendor": connection.vendor,
        "label": database_label(connection),
        "points": args.points,
        "workspace_points": args.workspace_points,
        "rows": [],
        "notes": [],
        "profiles": [],
    }
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    load = {"migrate_s": time.perf_counter() - started}
    results["load"] = load
    world = create_world(args)
    load_points(world, args, load)
    Path(os.environ["BENCH_OUT"]).write_text(json.dumps(results))  # the load, if the rest fails
    measure(world, args, results)
    Path(os.environ["BENCH_OUT"]).write_text(json.dumps(results))
    return 0


def create_world(args):
    """A person, a team project, the runs (as the client's upsertBucket makes them) and the
    metric keys (as ingestion interns them)."""
    from projects.services import project_create
    from runs.ingest import intern_keys
    from runs.models import MetricKey
    from runs.tracking import run_upsert
    from teams import services

    user = services.user_create(username=USER, email="bench@example.com")
    team = services.team_create(name=TEAM, creator=user)
    project = project_create(entity=team, name=PROJECT, creator=user)

    def run(run_id):
        run, _ = run_upsert(
            actor=user,
            entity_name=TEAM,
            project_name=PROJECT,
            run_id=run_id,
            username=None,
            fields={"displayName": run_id},
        )
        return run

    keys = intern_keys(MetricKey.Stream.HISTORY, [*METRICS, RUNTIME, TIMESTAMP])
    return {
        "user": user,
        "project": project,
        "keys": keys,
        "big": run(BIG_RUN),
        "workspace": [run(f"ws-{index:02d}") for index in range(WORKSPACE_RUNS)],
    }


# --- the data: computed by the database for the points, and by Python for the tiles ----------
#
# Each key's values come from one formula of the step made only of integer arithmetic and
# IEEE-754 additions, multiplications and divisions of doubles, so SQLite, PostgreSQL and Python
# compute the very same floats: the points are inserted by one INSERT ... SELECT per run, and
# the tiles are written by runs.tiles.write_tiles from the same values computed in Python
# (check_load compares them). The rows are in the order ingestion writes them: step by step,
# every key of a line together, so a key's points are spread over the table as in production.

METRIC, RUNTIME_KIND, TIMESTAMP_KIND = 0, 1, 2
START_TIME = 1_780_000_000


def key_specs(world, names):
    """(key id, kind, a, b, c) per key: a / (1 + step / 50000) + b * noise(step, c) + a spike
    every 9973 steps; or the runtime and timestamp of the step."""
    specs = []
    for index, name in enumerate(names):
        kind = {RUNTIME: RUNTIME_KIND, TIMESTAMP: TIMESTAMP_KIND}.get(name, METRIC)
        specs.append((world["keys"][name], kind, float(index + 1), 0.05, 40_503 * index))
    return specs


def value_of(kind, a, b, c, x):
    if kind == METRIC:
        noise = ((x * 2_654_435_761 + c) % 1_000_003) / 1_000_003.0
        return a / (1.0 + x / 50_000.0) + b * noise + (1.0 if (x + c) % 9_973 == 0 else 0.0)
    if kind == RUNTIME_KIND:
        return x * 0.05
    return float(START_TIME) + x * 0.05


def _double(sql):
    return f"CAST({sql} AS DOUBLE PRECISION)"


def value_sql(kind, a, b, c):
    """value_of as SQL of `x`, for both databases: a, b and c are SQL (literals or columns),
    and every operand of a float operation is cast to a double."""
    x = _double("x")
    if kind == METRIC:
        noise = f"{_double(f'(x * 2654435761 + {c}) % 1000003')} / {_double(1000003)}"
        spike = f"CASE WHEN (x + {c}) % 9973 = 0 THEN {_double(1)} ELSE {_double(0)} END"
        return (
            f"{_double(a)} / ({_double(1)} + {x} / {_double(50000)}) + "
            f"{_double(b)} * ({noise}) + {spike}"
        )
    runtime = f"{x} * {_double('0.05')}"
    return runtime if kind == RUNTIME_KIND else f"{_double(START_TIME)} + {runtime}"


def insert_points_sql(vendor, table, run_id, specs, count):
    """One INSERT of every point of a run, step by step, every key of a step together: the
    order in which ingestion's own INSERTs write them. (Without ingestion's ON CONFLICT DO
    NOTHING, which cannot fire on a fresh table and makes PostgreSQL's INSERT 1.7 times as
    slow.) Only numbers made here go into the SQL, so it runs without parameters, and `%` needs
    no escaping."""
    if vendor == "postgresql":
        # LATERAL VALUES reads x, so the series is the outer loop: rows come out step-major.
        values = ", ".join(
            f"({key_id}, {value_sql(kind, repr(a), repr(b), c)})" for key_id, kind, a, b, c in specs
        )
        return (
            f"INSERT INTO {table} (run_id, key_id, step, value) "
            f"SELECT {run_id}, v.key_id, x, v.value "
            f"FROM generate_series(0::bigint, {count - 1}::bigint) AS s(x) "
            f"CROSS JOIN LATERAL (VALUES {values}) AS v(key_id, value)"
        )
    keys = " UNION ALL ".join(
        f"SELECT {key_id} AS key_id, {kind} AS kind, {a!r} AS a, {b!r} AS b, {c} AS c"
        for key_id, kind, a, b, c in specs
    )
    expression = (
        f"CASE k.kind WHEN {METRIC} THEN "
        + value_sql(METRIC, "k.a", "k.b", "k.c")
        + f" WHEN {RUNTIME_KIND} THEN {value_sql(RUNTIME_KIND, 0, 0, 0)} "
        + f"ELSE {value_sql(TIMESTAMP_KIND, 0, 0, 0)} END"
    )
    # The left table of a CROSS JOIN is SQLite's outer loop: rows come out step-major.
    return (
        f"WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM s WHERE x < {count - 1}), "
        f"k AS ({keys}) "
        f"INSERT INTO {table} (run_id, key_id, step, value) "
        f"SELECT {run_id}, k.key_id, x, {expression} FROM s CROSS JOIN k"
    )


def insert_points(run_id, specs, count):
    from django.db import connection, transaction

    from runs.models import Point

    table = connection.ops.quote_name(Point._meta.db_table)
    sql = insert_points_sql(connection.vendor, table, run_id, specs, count)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
        if connection.vendor == "sqlite":  # rowcount is -1 for an INSERT that starts WITH
            cursor.execute("SELECT changes()")
            inserted = cursor.fetchone()[0]
        else:
            inserted = cursor.rowcount
    assert inserted == count * len(specs), (inserted, count * len(specs))
    return time.perf_counter() - started


def write_run_tiles(run_id, specs, count):
    """runs.tiles.write_tiles over the run's points, TILE_CHUNK_LINES lines at a time, in one
    transaction (ingestion writes them in each request's transaction)."""
    from django.db import transaction

    from runs.tiles import write_tiles

    started = time.perf_counter()
    with transaction.atomic():
        for first in range(0, count, TILE_CHUNK_LINES):
            points = [
                (key_id, x, value_of(kind, a, b, c, x))
                for x in range(first, min(count, first + TILE_CHUNK_LINES))
                for key_id, kind, a, b, c in specs
            ]
            write_tiles(run_id, points)
    return time.perf_counter() - started


def in_thread(function, *args):
    """Run in a worker thread, on the thread's own database connection, closed afterwards;
    return when it ended, too."""
    from django.db import connection

    try:
        return function(*args), time.perf_counter()
    finally:
        connection.close()


def load_points(world, args, load):
    """The points with one INSERT per run, and the tiles with write_tiles. On PostgreSQL the
    INSERTs run on POINT_WORKERS connections of their own (the database server does that work)
    while this thread computes and writes the tiles: both cores stay busy. SQLite takes one
    writer at a time: points, then tiles, run after run."""
    from django.db import connection

    from runs.models import Point, PointTile

    jobs = [(world["big"].pk, key_specs(world, [BIG_KEY, RUNTIME, TIMESTAMP]), args.points)]
    workspace_specs = key_specs(world, [*METRICS, RUNTIME, TIMESTAMP])
    jobs += [(run.pk, workspace_specs, args.workspace_points) for run in world["workspace"]]
    rows = sum(len(specs) * count for _, specs, count in jobs)
    print(f"  {connection.vendor}: loading {rows:,} point rows ({len(jobs)} runs) and their tiles")
    started = time.perf_counter()
    points_s = tiles_s = 0.0
    if connection.vendor == "postgresql":
        load["mode"] = f"overlapped: points on {POINT_WORKERS} connections, tiles on one"
        with ThreadPoolExecutor(max_workers=POINT_WORKERS) as pool:
            futures = [pool.submit(in_thread, insert_points, *job) for job in jobs]
            for job in jobs:
                write_run_tiles(*job)
            tiles_s = time.perf_counter() - started
            points_s = max(future.result()[1] for future in futures) - started
    else:
        load["mode"] = "points, then tiles, run after run"
        for job in jobs:
            points_s += insert_points(*job)
            tiles_s += write_run_tiles(*job)
    load["wall_s"] = time.perf_counter() - started
    load["points_s"], load["tiles_s"], load["point_rows"] = points_s, tiles_s, rows
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: the planner's statistics, and the
        # visibility map (index-only scans). Then a checkpoint, so that writing out gigabytes
        # of the load does not happen during the measurements.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Point._meta.db_table}, {PointTile._meta.db_table}")
            cursor.execute("CHECKPOINT")
        load["vacuum_s"] = time.perf_counter() - started
        load["vacuum_label"] = "VACUUM ANALYZE and CHECKPOINT"
    started = time.perf_counter()
    load["tile_rows"] = check_load(world, jobs)
    load["check_s"] = time.perf_counter() - started
    load["size_mb"] = database_size(connection) / 1e6
    print(
        f"  {connection.vendor}: loaded in {load['wall_s']:.0f} s (points {points_s:.0f} s, tiles "
        f"{tiles_s:.0f} s), {load['tile_rows']:,} tiles, {load['size_mb']:,.0f} MB"
    )


def check_load(world, jobs, samples=30):
    """Every point is stored with the value Python computes, and sampled tiles hold the minimum
    and maximum (ties to the earlier step) of their points as read back from the table."""
    from runs.models import Point, PointTile

    rng = random.Random(5)
    expected = sum(len(specs) * count for _, specs, count in jobs)
    stored = Point.objects.count()
    assert stored == expected, f"{stored:,} point rows stored, {expected:,} expected"
    for _ in range(samples):
        run_id, specs, count = rng.choice(jobs)
        key_id, kind, a, b, c = rng.choice(specs)
        width = rng.choice(PointTile.WIDTHS)
        tile = rng.randrange(0, -(-count // width))
        points = list(
            Point.objects.filter(
                run_id=run_id, key_id=key_id, step__gte=tile * width, step__lt=(tile + 1) * width
            )
            .order_by("step")
            .values_list("step", "value")
        )
        for step, value in points:
            assert value == value_of(kind, a, b, c, step), (run_id, key_id, step, value)
        low = min(points, key=lambda point: (point[1], point[0]))
        high = max(points, key=lambda point: (point[1], -point[0]))
        stored_tile = PointTile.objects.filter(
            run_id=run_id, key_id=key_id, width=width, tile=tile
        ).values_list("min_step", "min_value", "max_step", "max_value")
        assert list(stored_tile) == [(*low, *high)], (stored_tile, low, high)
    return PointTile.objects.count()


def database_size(connection):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            name = Path(connection.settings_dict["NAME"])
            return sum(
                path.stat().st_size
                for path in name.parent.iterdir()
                if path.name.startswith(name.name)
            )
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


# --- the measurements -------------------------------------------------------------------------


class Samples(list):
    """Milliseconds, and how many full (generation 2) garbage collections ran meanwhile."""

    full_gcs = 0


class full_collections:
    """Counts, into `samples`, the full garbage collections that start within the block: each
    stops the process for tens of milliseconds, and lands in one sample of a case now and then."""

    def __init__(self, samples):
        self.samples = samples

    def __call__(self, phase, info):
        if phase == "start" and info["generation"] == 2:
            self.samples.full_gcs += 1

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


# The profile's cumulative table: the project's chart code, the queries' execution and fetching,
# and the JSON encoding (not the dozen frames of the test client and the middleware).
PROFILE_FOCUS = r"runs/|compiler.py.*execute_sql|connection.py.*wait|fetchmany|encoder.py"


def sqlite_statistics(connection, table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return []
        cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = %s ORDER BY idx", [table])
        return cursor.fetchall()


def times_plan(call):
    """The plan of the first query of charts._times (`step IN (...)`) that `call` runs."""
    from django.db import connection

    found = []

    def capture(execute, sql, params, many, context):
        if '"step" IN (' in sql and not found:
            found.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        call()
    if not found:
        return "no step IN (...) query"
    sql, params = found[0]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "; ".join(row[-1] for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + sql, params)
        lines = [row[0].strip() for row in cursor.fetchall()]
    nodes = [line.split("  (cost")[0] for line in lines if "(cost" in line]
    return "; ".join(nodes[:3])


def measure(world, args, results):
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from runs import charts
    from runs.models import Point

    vendor = connection.vendor
    client = Client()
    client.force_login(world["user"])
    big = world["big"]
    key_id = world["keys"][BIG_KEY]
    to_profile = []

    def record(section, case, samples, *, queries, points, json_bytes=None, target=None):
        median, p95 = statistics.median(samples), percentile(samples, 95)
        results["rows"].append(
            {
                "section": section,
                "case": case,
                "median": median,
                "p95": p95,
                "queries": queries,
                "full_gcs": samples.full_gcs,
                "points": points,
                "json_kb": None if json_bytes is None else json_bytes / 1024,
                "target": target,
                "ok": target is None or p95 <= target,
            }
        )
        print(f"  {vendor}: {case}: median {median:.1f} ms, p95 {p95:.1f} ms")
        return median, p95

    def timed(call, repeat, warmup=WARMUP):
        for _ in range(warmup):
            call()
        with count_queries(connection) as queries:
            answer = call()
        samples = Samples()
        with full_collections(samples):
            for _ in range(repeat):
                started = time.perf_counter()
                call()
                samples.append((time.perf_counter() - started) * 1000)
        return samples, queries.count, answer

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        return response

    count = args.points
    raw_lo, wide_lo, wide_hi = int(count * 0.4), int(count * 0.1), int(count * 0.6)
    ranges = [
        ("full range", None, None),
        (f"zoom {raw_lo:,}-{raw_lo + 1_500:,}", raw_lo, raw_lo + 1_500),
        (f"zoom {wide_lo:,}-{wide_hi:,}", wide_lo, wide_hi),
    ]
    metric_url = reverse("runs:metric", args=[TEAM, PROJECT, BIG_RUN])
    section = f"one metric of one run, {count:,} points (buckets=1000, the run page's default)"

    def full_series(with_time=True):
        return charts.metric_series(big, BIG_KEY, buckets=1000, with_time=with_time)

    if vendor == "sqlite":
        # Django never runs ANALYZE; the settings' SQLiteOptimizeMiddleware runs PRAGMA optimize
        # after each request, and the first request that reads the points writes their
        # statistics (sampled: analysis_limit=1000). Once here, before any request, and then
        # every case below after a first request, as a server is after its first page.
        samples, queries, series = timed(full_series, args.repeat)
        record(
            section,
            "metric_series, full range, before any statistics",
            samples,
            queries=queries,
            points=len(series.steps),
            target=METRIC_TARGET_MS,
        )
        before = sqlite_statistics(connection, Point._meta.db_table)
        get(metric_url + f"?key={BIG_KEY}")
        after = sqlite_statistics(connection, Point._meta.db_table)
        stats = ", ".join(f"{index} '{stat}'" for index, stat in after) or "none"
        results["notes"].append(
            f"SQLite statistics of {Point._meta.db_table}: {len(before)} rows before the first "
            f"request, then (written by its PRAGMA optimize) {stats}"
        )

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        for label, lo, hi in ranges:

            def service(lo=lo, hi=hi):
                return charts.metric_series(big, BIG_KEY, lo=lo, hi=hi, buckets=1000)

            samples, queries, series = timed(service, args.repeat)
            kind = "sampled" if series.sampled else "every point"
            record(
                section,
                f"metric_series, {label} ({kind})",
                samples,
                queries=queries,
                points=len(series.steps),
                target=METRIC_TARGET_MS,
            )
            query = f"?key={BIG_KEY}" + ("" if lo is None else f"&min={lo}&max={hi}")

            def view(url=metric_url + query):
                return get(url)

            samples, queries, response = timed(view, args.repeat)
            data = json.loads(response.content)
            assert data["sampled"] == series.sampled and data["step"] == series.steps
            assert None not in data["runtime"] and None not in data["timestamp"]
            _, p95 = record(
                section,
                f"GET runs:metric, {label}",
                samples,
                queries=queries,
                points=len(data["step"]),
                json_bytes=len(response.content),
                target=METRIC_TARGET_MS,
            )
            if args.profile or p95 > METRIC_TARGET_MS:
                to_profile.append((f"GET runs:metric, {label}", view))

        results["notes"].append(
            f"plan of charts._times' query (step IN ...), full range: {times_plan(full_series)}"
        )
        # Where the time goes: the same series without the _runtime/_timestamp reads.
        samples, queries, series = timed(lambda: full_series(with_time=False), args.repeat)
        record(
            section,
            "metric_series, full range, with_time=False",
            samples,
            queries=queries,
            points=len(series.steps),
        )

        # The contrast: what a chart would read without tiles.
        section = f"without tiles, for contrast ({count:,} points read)"

        def raw_read():
            return list(
                Point.objects.filter(run=big, key_id=key_id)
                .order_by("step")
                .values_list("step", "value")
            )

        samples, queries, rows = timed(raw_read, RAW_REPEAT, warmup=1)
        assert len(rows) == count, len(rows)
        record(
            section,
            "Point values_list(step, value), every point",
            samples,
            queries=queries,
            points=len(rows),
        )

        def raw_bucketed():
            # charts._bucketed's own fallback when no tile width fits: bucket every point.
            buckets = charts._Buckets(0, count, 1000)
            for step, value in charts._raw(big, key_id, 0, count - 1):
                if value is not None:
                    buckets.add(step, value)
            return buckets.points()

        samples, queries, points = timed(raw_bucketed, RAW_REPEAT, warmup=1)
        record(
            section,
            "the same, bucketed to 1000 in Python (no times)",
            samples,
            queries=queries,
            points=len(points),
        )

        measure_workspace(world, args, results, record, timed, get, to_profile)
        for case, call in to_profile:
            results["profiles"].append(
                {"case": case, "text": profile_text(call, PROFILE_FOCUS, 14)}
            )


def measure_workspace(world, args, results, record, timed, get, to_profile):
    """One request per panel, each one metric of the 20 runs, as the workspace's charts.js
    sends them (`?key=K&run=a&run=b...`, no `buckets`: WORKSPACE_BUCKETS)."""
    from django.db import connection
    from django.urls import reverse

    from runs import charts
    from runs.views import WORKSPACE_BUCKETS

    section = (
        f"workspace: {WORKSPACE_RUNS} runs x {len(METRICS)} metrics x "
        f"{args.workspace_points:,} points (buckets={WORKSPACE_BUCKETS}, the default)"
    )
    base = reverse("runs:project_metric", args=[TEAM, PROJECT])
    run_query = "".join(f"&run={run.run_id}" for run in world["workspace"])
    panel_urls = [f"{base}?key={key}{run_query}" for key in METRICS]
    for url in panel_urls[:WARMUP]:
        get(url)
    with count_queries(connection) as queries:
        response = get(panel_urls[0])
    data = json.loads(response.content)
    assert len(data["series"]) == WORKSPACE_RUNS, len(data["series"])
    assert all(None not in series["runtime"] for series in data["series"])
    panel_points = sum(len(series["step"]) for series in data["series"])
    panel_samples, workspace_samples = Samples(), Samples()
    with full_collections(panel_samples):
        for _ in range(args.repeat):
            started = time.perf_counter()
            for url in panel_urls:
                panel_started = time.perf_counter()
                get(url)
                panel_samples.append((time.perf_counter() - panel_started) * 1000)
            workspace_samples.append((time.perf_counter() - started) * 1000)
    workspace_samples.full_gcs = panel_samples.full_gcs
    record(
        section,
        f"one panel: GET runs:project_metric, {WORKSPACE_RUNS} runs",
        panel_samples,
        queries=queries.count,
        points=panel_points,
        json_bytes=len(response.content),
    )
    record(
        section,
        f"whole workspace: {len(METRICS)} panels one after another",
        workspace_samples,
        queries=queries.count * len(METRICS),
        points=panel_points * len(METRICS),
        json_bytes=len(response.content) * len(METRICS),
    )
    # Where a panel's time goes: its 20 metric_series calls, with and without the time reads.
    key_id = world["keys"][METRICS[0]]
    for with_time in (True, False):

        def panel_service(with_time=with_time):
            return sum(
                len(
                    charts.metric_series(
                        run,
                        METRICS[0],
                        key_id=key_id,
                        buckets=WORKSPACE_BUCKETS,
                        with_time=with_time,
                    ).steps
                )
                for run in world["workspace"]
            )

        samples, count, points = timed(panel_service, args.repeat)
        record(
            section,
            f"{WORKSPACE_RUNS} x metric_series" + ("" if with_time else ", with_time=False"),
            samples,
            queries=count,
            points=points,
        )
    per_run = statistics.median(panel_samples) / WORKSPACE_RUNS
    results["notes"].append(
        f"workspace: {len(panel_samples)} panel requests ({args.repeat} x {len(METRICS)}), "
        f"about {per_run:.1f} ms per run and panel; the whole workspace's points and JSON are "
        "the first panel's times 10"
    )
    results["notes"].append(
        f"targets: {METRIC_TARGET_MS} ms for one metric of one run (on the p95); the issue sets "
        "none for the workspace"
    )
    if args.profile:
        to_profile.append(
            (f"GET runs:project_metric, {WORKSPACE_RUNS} runs", lambda: get(panel_urls[0]))
        )


if __name__ == "__main__":
    sys.exit(main())
