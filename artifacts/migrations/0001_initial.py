"""The artifact models move here from the runs app with their tables (`runs_artifact`, ...):
the state only, the database keeps every row. runs 0013 then forgets them."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('projects', '0003_project_run_counter'),
        ('runs', '0012_run_state_heartbeat_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Artifact',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('version_index', models.PositiveIntegerField()),
                        ('digest', models.CharField(max_length=64)),
                        ('state', models.CharField(choices=[('PENDING', 'Pending'), ('COMMITTED', 'Committed')], default='PENDING', max_length=10)),
                        ('description', models.TextField(blank=True)),
                        ('metadata', models.JSONField(blank=True, default=dict)),
                        ('history_step', models.BigIntegerField(null=True)),
                        ('manifest_storage_name', models.CharField(blank=True, max_length=1024)),
                        ('requested_aliases', models.JSONField(blank=True, default=list)),
                        ('size', models.BigIntegerField(default=0)),
                        ('file_count', models.PositiveIntegerField(default=0)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('created_by_run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='logged_artifacts', to='runs.run')),
                        ('logged_by', models.ManyToManyField(blank=True, db_table='runs_artifact_logged_by', related_name='relogged_artifacts', to='runs.run')),
                        ('used_by', models.ManyToManyField(blank=True, db_table='runs_artifact_used_by', related_name='used_artifacts', to='runs.run')),
                    ],
                    options={
                        'db_table': 'runs_artifact',
                        'ordering': ['collection', '-version_index'],
                    },
                ),
                migrations.CreateModel(
                    name='ArtifactCollection',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=255)),
                        ('type', models.CharField(max_length=255)),
                        ('description', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='artifact_collections', to='projects.project')),
                    ],
                    options={
                        'db_table': 'runs_artifactcollection',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='ArtifactAlias',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('alias', models.CharField(max_length=128)),
                        ('artifact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='aliases', to='artifacts.artifact')),
                        ('collection', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='aliases', to='artifacts.artifactcollection')),
                    ],
                    options={
                        'db_table': 'runs_artifactalias',
                        'ordering': ['alias'],
                    },
                ),
                migrations.AddField(
                    model_name='artifact',
                    name='collection',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='artifacts.artifactcollection'),
                ),
                migrations.CreateModel(
                    name='ArtifactFile',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=1024)),
                        ('md5', models.CharField(max_length=32)),
                        ('size', models.BigIntegerField(null=True)),
                        ('storage_name', models.CharField(max_length=1024)),
                        ('artifact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='files', to='artifacts.artifact')),
                    ],
                    options={
                        'db_table': 'runs_artifactfile',
                        'ordering': ['name'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='artifactcollection',
                    constraint=models.UniqueConstraint(fields=('project', 'name'), name='artifact_collection_unique'),
                ),
                migrations.AddConstraint(
                    model_name='artifactalias',
                    constraint=models.UniqueConstraint(fields=('collection', 'alias'), name='artifact_alias_unique'),
                ),
                migrations.AddIndex(
                    model_name='artifact',
                    index=models.Index(fields=['collection', 'digest'], name='artifact_digest'),
                ),
                migrations.AddConstraint(
                    model_name='artifact',
                    constraint=models.UniqueConstraint(fields=('collection', 'version_index'), name='artifact_version_unique'),
                ),
                migrations.AddConstraint(
                    model_name='artifactfile',
                    constraint=models.UniqueConstraint(fields=('artifact', 'name'), name='artifact_file_unique'),
                ),
            ],
        ),
    ]
