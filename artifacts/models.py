"""Artifacts (models, datasets, code) the wandb client logs: a collection per name within a
project, its versions, their aliases and files.

The tables were created by the runs app and keep its names (`runs_artifact`, ...): the models
moved here without moving their data. Runs reach their artifacts through the reverse relations
(`run.logged_artifacts`, `run.used_artifacts`, `run.relogged_artifacts`,
`project.artifact_collections`) and the query methods below, never by importing this module."""

from django.db import models
from django.db.models import Prefetch
from django.utils import timezone

from projects.models import Project
from runs.models import Run


class ArtifactCollectionQuerySet(models.QuerySet):
    def with_recent_versions(self, count: int):
        """Each collection with its newest committed versions in `recent_versions`, their
        aliases, files and the run that logged each: a fixed number of queries."""
        versions = (
            Artifact.objects.committed()
            .select_related("created_by_run__project__entity")
            .prefetch_related("aliases", "files")
            .order_by("-version_index")
        )
        return self.prefetch_related(
            Prefetch("versions", queryset=versions[:count], to_attr="recent_versions")
        )


class ArtifactCollection(models.Model):
    """An artifact's name within a project ("mymodel"), holding its versions v0, v1, ..."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="artifact_collections"
    )
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ArtifactCollectionQuerySet.as_manager()

    class Meta:
        db_table = "runs_artifactcollection"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="artifact_collection_unique"),
        ]

    def __str__(self):
        return self.name


class ArtifactQuerySet(models.QuerySet):
    def committed(self):
        return self.filter(state=Artifact.State.COMMITTED)


class Artifact(models.Model):
    """One version of an artifact: committed once its files and manifest are uploaded."""

    class State(models.TextChoices):
        PENDING = "PENDING", "Pending"
        COMMITTED = "COMMITTED", "Committed"

    collection = models.ForeignKey(
        ArtifactCollection, on_delete=models.CASCADE, related_name="versions"
    )
    version_index = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    description = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    history_step = models.BigIntegerField(null=True)
    created_by_run = models.ForeignKey(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="logged_artifacts"
    )
    manifest_storage_name = models.CharField(max_length=1024, blank=True)
    # An incremental version's manifest lists only what changed; the stored manifest is merged
    # with this version's.
    manifest_base = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Aliases the client asked for; they move to this version when it is committed.
    requested_aliases = models.JSONField(default=list, blank=True)
    size = models.BigIntegerField(default=0)
    file_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    used_by = models.ManyToManyField(
        Run, related_name="used_artifacts", blank=True, db_table="runs_artifact_used_by"
    )
    # Runs that logged this version again after created_by_run (the same files, so the same
    # digest: the client's log_code() of unchanged code); they show it as theirs.
    logged_by = models.ManyToManyField(
        Run, related_name="relogged_artifacts", blank=True, db_table="runs_artifact_logged_by"
    )

    objects = ArtifactQuerySet.as_manager()

    class Meta:
        db_table = "runs_artifact"
        ordering = ["collection", "-version_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "version_index"], name="artifact_version_unique"
            ),
        ]
        indexes = [models.Index(fields=["collection", "digest"], name="artifact_digest")]

    def __str__(self):
        return f"{self.collection.name}:v{self.version_index}"

    @property
    def version(self):
        return f"v{self.version_index}"


class ArtifactAlias(models.Model):
    """`latest`, `best`, ...: points at one version of a collection at a time."""

    collection = models.ForeignKey(
        ArtifactCollection, on_delete=models.CASCADE, related_name="aliases"
    )
    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=128)

    class Meta:
        db_table = "runs_artifactalias"
        ordering = ["alias"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "alias"], name="artifact_alias_unique"),
        ]

    def __str__(self):
        return self.alias


class ArtifactTag(models.Model):
    """A label on one version ("baseline", "v2 data"); versions are found by them."""

    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["artifact", "name"], name="artifact_tag_unique"),
        ]
        indexes = [models.Index(fields=["name"], name="artifact_tag_name")]

    def __str__(self):
        return self.name


class ArtifactFileQuerySet(models.QuerySet):
    def stored(self):
        """Files whose bytes are uploaded (a file without a size is still being uploaded)."""
        return self.exclude(size=None)


class ArtifactFile(models.Model):
    """A file of an artifact version. The bytes are stored once per entity and digest, so a
    version that repeats a file shares it."""

    # Run files and artifact files count their ids apart: each kind has a thumbnail folder.
    thumbnail_folder = "thumbnails/artifact-files"

    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=1024)
    # Base64 MD5, as the client computes it.
    md5 = models.CharField(max_length=32)
    size = models.BigIntegerField(null=True)
    storage_name = models.CharField(max_length=1024)

    objects = ArtifactFileQuerySet.as_manager()

    class Meta:
        db_table = "runs_artifactfile"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["artifact", "name"], name="artifact_file_unique"),
        ]

    def __str__(self):
        return self.name
