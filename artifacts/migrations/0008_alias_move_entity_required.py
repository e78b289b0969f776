import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # Apart from the data migration: PostgreSQL refuses to alter a table with pending
    # deferred-constraint checks from an update in the same transaction.
    dependencies = [
        ("artifacts", "0007_alias_move_fill_entity"),
    ]

    operations = [
        migrations.AlterField(
            model_name="aliasmove",
            name="entity",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="teams.entity",
            ),
        ),
    ]
