import pytest
from django.db import connection

from tests.factories import ProjectFactory, RunFactory


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner statistics only")
# Outside a test transaction, as a real request is: the middleware leaves open transactions be.
@pytest.mark.django_db(transaction=True)
def test_a_request_leaves_sqlite_with_planner_statistics_for_the_tables_it_used(
    client, team, alice
):
    project = ProjectFactory(entity=team, creator=alice)
    RunFactory.create_batch(30, project=project, author=alice)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")  # earlier tests may have made it
    client.force_login(alice)

    assert client.get(f"/{project.path}/?tag=x").status_code == 200

    with connection.cursor() as cursor:
        cursor.execute("SELECT tbl FROM sqlite_stat1")
        analyzed = {row[0] for row in cursor.fetchall()}
    assert "runs_run" in analyzed
