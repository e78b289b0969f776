"""What the benchmark scripts share. They run as scripts (`python bench/<name>.py`), so this
folder is on sys.path and they import it as `common`."""


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
