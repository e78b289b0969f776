from django.conf import settings
from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    """Every existing move still has its registered model (deletes cascaded until now)."""
    AliasMove = apps.get_model("artifacts", "AliasMove")
    ArtifactCollection = apps.get_model("artifacts", "ArtifactCollection")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    portfolio = ArtifactCollection.objects.filter(pk=OuterRef("portfolio_id"))
    AliasMove.objects.exclude(portfolio=None).update(
        entity_id=Subquery(portfolio.values("project__entity_id")[:1]),
        portfolio_name=Subquery(portfolio.values("name")[:1]),
    )
    mover = User.objects.filter(pk=OuterRef("moved_by_id"))
    AliasMove.objects.exclude(moved_by=None).update(
        moved_by_name=Subquery(mover.values("username")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("artifacts", "0006_alias_move_outlives_portfolio"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
