"""Artifacts (models, datasets, code) the wandb client logs: a collection per name within a
project, its versions, their aliases and files.

The tables were created by the runs app and keep its names (`runs_artifact`, ...): the models
moved here without moving their data. Runs reach their artifacts through the reverse relations
(`run.logged_artifacts`, `run.used_artifacts`, `run.relogged_artifacts`,
`project.artifact_collections`) and the query methods below, never by importing this module."""

from django.conf import settings
from django.db import models
from django.db.models import Prefetch
from django.utils import timezone

from projects.models import Project
from runs.models import Run
from teams.models import Entity


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
    """An artifact's name within a project ("mymodel"), holding its versions v0, v1, ...

    A portfolio (a registered model, in the team's `model-registry` project) holds no versions
    of its own: its versions are links to versions of sequences of the same entity."""

    class Kind(models.TextChoices):
        SEQUENCE = "sequence", "Sequence"
        PORTFOLIO = "portfolio", "Portfolio (registered model)"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="artifact_collections"
    )
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=255)
    kind = models.CharField(max_length=9, choices=Kind, default=Kind.SEQUENCE)
    # Null until someone writes one: the client tells "no description" from an empty one.
    description = models.TextField(null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now)
    # When its name, description, type or tags last changed (its versions have their own).
    updated_at = models.DateTimeField(null=True, blank=True)

    objects = ArtifactCollectionQuerySet.as_manager()

    class Meta:
        db_table = "runs_artifactcollection"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="artifact_collection_unique"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_portfolio(self) -> bool:
        return self.kind == self.Kind.PORTFOLIO


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
    # Set for a version written by several runs at once (`run.upsert_artifact()` in each, one
    # `finish_artifact()`): their manifests merge into this one pending version until committed.
    distributed_id = models.CharField(max_length=128, blank=True)
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


class ArtifactCollectionTag(models.Model):
    """A label on a whole collection ("vision", "prod-candidate"), kept when it is renamed."""

    collection = models.ForeignKey(
        ArtifactCollection, on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "name"], name="artifact_collection_tag_unique"
            ),
        ]

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


class ArtifactLink(models.Model):
    """A version of a portfolio: a link to a version of a sequence, numbered within the
    portfolio (v0, v1, ...). Unlinking deletes the link, never the version it points at."""

    portfolio = models.ForeignKey(
        ArtifactCollection, on_delete=models.CASCADE, related_name="links"
    )
    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="links")
    version_index = models.PositiveIntegerField()
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["portfolio", "-version_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "version_index"], name="artifact_link_version_unique"
            ),
            # A version is in a portfolio once; its aliases there are (portfolio, version).
            models.UniqueConstraint(fields=["portfolio", "artifact"], name="artifact_link_unique"),
        ]

    def __str__(self):
        return f"{self.portfolio.name}:v{self.version_index}"

    @property
    def version(self):
        return f"v{self.version_index}"


class ProtectedAlias(models.Model):
    """An alias of a team's registered models that only its admins may move, besides the
    built-in `production` and `staging`."""

    BUILT_IN = ("production", "staging")

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="protected_aliases")
    alias = models.CharField(max_length=128)

    class Meta:
        verbose_name_plural = "protected aliases"
        ordering = ["entity", "alias"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "alias"], name="protected_alias_unique"),
        ]

    def __str__(self):
        return f"{self.entity.name}: {self.alias}"


class AliasMove(models.Model):
    """Who moved an alias of a registered model, from which version to which, and when. A
    null version is an alias that was added (from) or removed (to).

    The history outlives the registered model and the people who moved its aliases. Deleting
    the model (registry.portfolio_delete; sequence_delete for the links to a logged sequence;
    either in the admin) records the removal of each alias it held and keeps every row:
    `portfolio` turns null, `portfolio_name` and `moved_by_name` still say what and who. The
    rows belong to the team (`entity`) and go only with it, since nobody is left to read them.
    Deleting a whole project keeps them too, but records no removals: its aliases go with it
    as a whole."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="+")
    portfolio = models.ForeignKey(
        ArtifactCollection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alias_moves",
    )
    # The registered model's name when the alias moved: what the row shows once it is deleted.
    portfolio_name = models.CharField(max_length=255)
    alias = models.CharField(max_length=128)
    from_version_index = models.PositiveIntegerField(null=True, blank=True)
    to_version_index = models.PositiveIntegerField(null=True, blank=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # As AuditEvent.actor_name: the row still says who once the account is gone.
    moved_by_name = models.CharField(max_length=150, blank=True)
    moved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-moved_at", "-pk"]
        indexes = [
            models.Index(fields=["portfolio", "-moved_at"], name="alias_move_recent"),
            models.Index(fields=["entity", "-moved_at"], name="alias_move_entity_recent"),
        ]

    def __str__(self):
        return f"{self.alias}: v{self.from_version_index} -> v{self.to_version_index}"

    @classmethod
    def of(cls, portfolio: ArtifactCollection, *, alias: str, from_index, to_index, actor):
        """An unsaved move in `portfolio` (its project loaded), by `actor`."""
        known = getattr(actor, "is_authenticated", False)
        return cls(
            entity_id=portfolio.project.entity_id,
            portfolio=portfolio,
            portfolio_name=portfolio.name,
            alias=alias,
            from_version_index=from_index,
            to_version_index=to_index,
            moved_by=actor if known else None,
            moved_by_name=actor.username if known else "",
        )
