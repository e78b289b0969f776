"""A private team's projects are team-only in the table itself, not only while the team stays
private: a project that still says "public" on a private team is made team-only (and audited), so
that turning the team's privacy off later publishes nothing."""

from django.db import migrations

BECAUSE = "the team was made private"


def make_private_teams_projects_team_only(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    AuditEvent = apps.get_model("teams", "AuditEvent")
    public = Project.objects.filter(entity__is_private=True, visibility="public")
    rows = list(public.values_list("entity_id", "name"))
    public.update(visibility="team")
    AuditEvent.objects.bulk_create(
        AuditEvent(
            entity_id=entity_id,
            verb="project.updated",
            target=name[:255],
            details={"visibility": "team", "because": BECAUSE},
        )
        for entity_id, name in rows
    )


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0001_initial"),
        ("teams", "0003_membership_alert_emails"),
    ]

    operations = [
        migrations.RunPython(make_private_teams_projects_team_only, migrations.RunPython.noop),
    ]
