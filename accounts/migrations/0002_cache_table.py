"""The table of the database cache (settings.CACHES without REDIS_URL), where failed sign-ins and
API keys are counted for every web process: made here so that `migrate` alone sets up a server.

It is Django's own `createcachetable` table (and that command, which the test runner also calls,
finds it there). Made whatever the cache is today, so a server that drops Redis later has it."""

from django.core.management import call_command
from django.db import migrations

TABLE = "teamsite_cache"


def create_table(apps, schema_editor):
    call_command(
        "createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0
    )


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_table, drop_table, elidable=False)]
