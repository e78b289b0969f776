"""On SQLite, keep the points table clustered by its primary key (WITHOUT ROWID): a chunk of
points then updates one B-tree instead of two, and a chart's range scan reads neighbouring
rows. Django cannot declare this, so the table is rebuilt here; any later migration that makes
Django rebuild this table on SQLite must repeat it."""

from django.db import migrations

REBUILD = [
    'CREATE TABLE "runs_point_clustered" ("run_id" bigint NOT NULL, "key_id" bigint NOT NULL, '
    '"step" bigint NOT NULL, "value" real NULL, PRIMARY KEY ("run_id", "key_id", "step")) '
    "WITHOUT ROWID",
    'INSERT INTO "runs_point_clustered" SELECT "run_id", "key_id", "step", "value" '
    'FROM "runs_point"',
    'DROP TABLE "runs_point"',
    'ALTER TABLE "runs_point_clustered" RENAME TO "runs_point"',
]


def cluster_points(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in REBUILD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("runs", "0002_client_logging_and_charts")]

    operations = [migrations.RunPython(cluster_points, migrations.RunPython.noop)]
