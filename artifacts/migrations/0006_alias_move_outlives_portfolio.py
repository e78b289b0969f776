import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Alias moves keep their team, the registered model's name and the mover's name, so they
    outlive the model and the account."""

    dependencies = [
        ("artifacts", "0005_distributed_versions"),
        ("teams", "0003_membership_alert_emails"),
    ]

    operations = [
        migrations.AddField(
            model_name="aliasmove",
            name="entity",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="teams.entity",
            ),
        ),
        migrations.AddField(
            model_name="aliasmove",
            name="portfolio_name",
            field=models.CharField(default="", max_length=255),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="aliasmove",
            name="moved_by_name",
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.AlterField(
            model_name="aliasmove",
            name="portfolio",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="alias_moves",
                to="artifacts.artifactcollection",
            ),
        ),
        migrations.AddIndex(
            model_name="aliasmove",
            index=models.Index(fields=["entity", "-moved_at"], name="alias_move_entity_recent"),
        ),
    ]
