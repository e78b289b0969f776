"""Artifact versions follow the runs that logged them to another project.

A collection whose versions all move goes as it is. One that keeps some versions (logged by
runs that stay) is split: the moving versions go to a collection of the same name and type in
the target, keeping their version numbers and aliases, and each side's `latest` points at its
newest version. Lineage is untouched: it links versions and runs, not projects. A collection
name the target already has refuses the whole move, and so does a version linked into a
registered model when the runs leave its entity (a registered model links only its own
entity's versions)."""

from django.db.models import Count, OuterRef, Subquery

from runs.services import RunsError

from .models import Artifact, ArtifactAlias, ArtifactCollection, ArtifactLink
from .services import LATEST

CLASHES_SHOWN = 10


class ArtifactNameClash(RunsError):
    """The target project already has collections named as some the runs logged into."""


class ArtifactRegistered(RunsError):
    """Versions the runs logged are in registered models of the entity the runs would leave."""


def move_logged_versions(source, target, runs) -> None:
    moving = Artifact.objects.filter(collection__project=source, created_by_run__in=runs)
    collections = list(
        ArtifactCollection.objects.filter(project=source, versions__in=moving).annotate(
            moving=Count("versions", distinct=True),
            total=Subquery(
                Artifact.objects.filter(collection=OuterRef("pk"))
                .order_by()
                .values("collection")
                .annotate(count=Count("pk"))
                .values("count")
            ),
        )
    )
    if not collections:
        return
    _refuse_clashes(target, [collection.name for collection in collections])
    if target.entity_id != source.entity_id:
        _refuse_registered(source, moving)
    whole = [c.pk for c in collections if c.moving == c.total]
    ArtifactCollection.objects.filter(pk__in=whole).update(project=target)
    split = [c for c in collections if c.moving < c.total]
    if split:
        _split(split, target, moving)


def _refuse_clashes(target, names) -> None:
    clashes = sorted(
        ArtifactCollection.objects.filter(project=target, name__in=names).values_list(
            "name", flat=True
        )
    )
    if clashes:
        shown = ", ".join(clashes[:CLASHES_SHOWN])
        more = f" and {len(clashes) - CLASHES_SHOWN} more" if len(clashes) > CLASHES_SHOWN else ""
        raise ArtifactNameClash(
            f"{target.path} already has artifacts named {shown}{more}, which the selected runs "
            "logged too. Nothing was moved."
        )


def _refuse_registered(source, moving) -> None:
    links = sorted(
        {
            f"{name}:v{index}"
            for name, index in ArtifactLink.objects.filter(artifact__in=moving).values_list(
                "portfolio__name", "version_index"
            )
        }
    )
    if links:
        shown = ", ".join(links[:CLASHES_SHOWN])
        more = f" and {len(links) - CLASHES_SHOWN} more" if len(links) > CLASHES_SHOWN else ""
        raise ArtifactRegistered(
            f"Versions the selected runs logged are registered models of {source.entity.name} "
            f"({shown}{more}); unlink them before the runs leave it. Nothing was moved."
        )


def _split(collections, target, moving) -> None:
    copies = ArtifactCollection.objects.bulk_create(
        ArtifactCollection(
            project=target,
            name=collection.name,
            type=collection.type,
            description=collection.description,
            created_at=collection.created_at,
        )
        for collection in collections
    )
    copy_of = {collection.pk: copy.pk for collection, copy in zip(collections, copies, strict=True)}
    for source_pk, copy_pk in copy_of.items():
        versions = moving.filter(collection_id=source_pk)
        # The aliases this collection gives them; a registered model's aliases stay its own.
        aliases = ArtifactAlias.objects.filter(collection_id=source_pk, artifact__in=versions)
        aliases.exclude(alias=LATEST).update(collection_id=copy_pk)
        aliases.filter(alias=LATEST).delete()
        versions.update(collection_id=copy_pk)
    _point_latest_at_newest([*copy_of, *copy_of.values()])


def _point_latest_at_newest(collection_pks) -> None:
    newest = {}
    versions = Artifact.objects.filter(
        collection_id__in=collection_pks, state=Artifact.State.COMMITTED
    ).order_by("collection_id", "version_index")
    for collection, version in versions.values_list("collection_id", "pk"):
        newest[collection] = version  # in ascending order: the last one is the newest
    ArtifactAlias.objects.filter(collection_id__in=collection_pks, alias=LATEST).delete()
    ArtifactAlias.objects.bulk_create(
        ArtifactAlias(collection_id=collection, artifact_id=version, alias=LATEST)
        for collection, version in newest.items()
    )
