"""What the benchmark scripts share. They run as scripts (`python bench/<name>.py`), so this
folder is on sys.path and they import it as `common`."""

import cProfile
import io
import pstats
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The PostgreSQL server the benchmarks create their databases on (user postgres, trust).
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_ADMIN_URL = f"{PG_SERVER}/postgres"


# What a benchmark's Django process runs with: production settings (DEBUG off) without HTTPS,
# answering the test client's host.
SETTINGS_ENV = {
    "DJANGO_SETTINGS_MODULE": "teamsite.settings",
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "testserver",
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "LOG_LEVEL": "WARNING",
}


def django_child():
    """Set Django up in a benchmark's child process, whose environment chose the settings."""
    sys.path.insert(0, str(ROOT))
    # WhiteNoise warns that there is no collectstatic output; the pages render without it.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()
    from django.conf import settings

    assert not settings.DEBUG, "measure with DEBUG off"


def pg_admin(sql):
    """Run a statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://")) as connection:
        connection.autocommit = True
        connection.execute(sql)


def percentile(samples, pct):
    """Nearest-rank percentile: of 15 samples, p95 is the largest."""
    ordered = sorted(samples)
    rank = max(1, -(-pct * len(ordered) // 100))
    return ordered[int(rank) - 1]


def profile_text(call, focus: str, rows: int) -> str:
    """Where `call` spends its time: the `rows` costliest frames matching `focus` (cumulative),
    then the ten costliest on their own."""
    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(focus, rows)
    stats.sort_stats("tottime").print_stats(10)
    # Keep the tables, not pstats' preamble or blank lines; shorten the long paths.
    lines = [
        line.replace(str(ROOT) + "/", "").replace(sys.prefix + "/", "")
        for line in out.getvalue().splitlines()
        if line.strip() and not line.strip().startswith(("Ordered by", "List reduced"))
    ]
    return "\n".join(lines)


class count_queries:
    """Counts the statements run on `connection` (request_started resets connection.queries, so
    CaptureQueriesContext sees nothing of a test Client request)."""

    def __init__(self, connection):
        self.connection, self.count = connection, 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self.wrapper = self.connection.execute_wrapper(self)
        self.wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        return self.wrapper.__exit__(*exc)


def database_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


def database_label(connection) -> str:
    """ "SQLite 3.40.1" or "PostgreSQL 15.20"."""
    name = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
    return f"{name} {database_version(connection)}"
