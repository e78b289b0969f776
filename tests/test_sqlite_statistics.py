import sqlite3

import pytest
from django.db import connection, connections

from tests.factories import ProjectFactory, RunFactory


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner statistics only")
# Outside a test transaction, as a real request is: the middleware leaves open transactions be.
@pytest.mark.django_db(transaction=True)
def test_every_sqlite_request_ends_with_pragma_optimize_after_its_queries(client, team, alice):
    project = ProjectFactory(entity=team, creator=alice)
    RunFactory.create_batch(3, project=project, author=alice)
    client.force_login(alice)
    client.get("/")  # opens the connection the request will use
    statements = []
    connection.ensure_connection()
    connection.connection.set_trace_callback(statements.append)
    try:
        assert client.get(f"/{project.path}/?tag=x").status_code == 200
    finally:
        connection.connection.set_trace_callback(None)

    # Lines starting "--" are what PRAGMA optimize itself runs (ANALYZE of a table).
    runs_queries = [
        i for i, sql in enumerate(statements) if '"runs_run"' in sql and not sql.startswith("--")
    ]
    assert runs_queries, "the runs table page reads runs"
    assert statements.index("PRAGMA optimize") > runs_queries[-1]


class _LockedForOptimize:
    """The sqlite3 connection, as when another request holds the write lock at the end."""

    def __init__(self, real):
        self.real = real

    def execute(self, sql, *args):
        if sql == "PRAGMA optimize":
            raise sqlite3.OperationalError("database is locked")
        return self.real.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner statistics only")
@pytest.mark.django_db(transaction=True)
def test_a_request_does_not_fail_when_the_upkeep_finds_the_database_locked(
    client, alice, monkeypatch
):
    client.force_login(alice)
    wrapper = connections["default"]
    wrapper.ensure_connection()
    monkeypatch.setattr(wrapper, "connection", _LockedForOptimize(wrapper.connection))

    response = client.get("/settings/teams/")

    assert response.status_code == 200
