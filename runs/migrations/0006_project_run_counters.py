from django.db import migrations
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def count_existing_runs(apps, schema_editor):
    """Projects that already have runs number their next generated run name after them."""
    Project = apps.get_model("projects", "Project")
    Run = apps.get_model("runs", "Run")
    runs = (
        Run.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(count=Count("pk"))
        .values("count")
    )
    Project.objects.update(
        run_counter=Coalesce(Subquery(runs, output_field=IntegerField()), Value(0))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0003_project_run_counter"),
        ("runs", "0005_console_stream_and_time"),
    ]

    operations = [
        migrations.RunPython(count_existing_runs, migrations.RunPython.noop, elidable=True),
    ]
