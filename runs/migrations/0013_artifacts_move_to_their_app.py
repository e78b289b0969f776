"""The artifact models now belong to the artifacts app (artifacts 0001), which keeps their
tables: runs forgets them in its state only. Their content types move with them, so the
permissions and admin history that point at them stay."""

from django.db import migrations

MODELS = ["artifactcollection", "artifact", "artifactalias", "artifactfile"]


def _move_content_types(apps, schema_editor, source, target):
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(
        schema_editor.connection.alias
    )
    for model in MODELS:
        if not content_types.filter(app_label=target, model=model).exists():
            content_types.filter(app_label=source, model=model).update(app_label=target)


def forwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, "runs", "artifacts")


def backwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, "artifacts", "runs")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("runs", "0012_run_state_heartbeat_index"),
        ("artifacts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="ArtifactFile"),
                migrations.DeleteModel(name="ArtifactAlias"),
                migrations.DeleteModel(name="Artifact"),
                migrations.DeleteModel(name="ArtifactCollection"),
            ],
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
