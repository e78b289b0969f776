"""A project's artifacts listed as `wandb artifact ls`, `api.artifact_types()`,
`api.artifact_collections()` and `api.artifacts()` walk them: the types used in a project, the
collections of a type, and a collection's committed versions, latest first."""

from dataclasses import dataclass

from ariadne import ObjectType
from django.db.models import Max, Min, Prefetch

from artifacts.models import Artifact, ArtifactAlias, ArtifactCollection

from .artifacts import artifact_type, sequence_type
from .common import MAX_PAGE, ApiError, node_id, pk_from_node_id, query, visible_project
from .projects import project_type


@dataclass(frozen=True)
class ArtifactType:
    """A type ("model", "dataset", "code") as a project uses it: it exists while a collection
    of the project has it."""

    project_id: int
    name: str
    created_at: object = None


def _page_size(first) -> int:
    return max(1, min(first or 50, MAX_PAGE))


def _page_info(edges, has_next, after) -> dict:
    return {
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else after,
        "hasNextPage": has_next,
        "hasPreviousPage": bool(after),
    }


def _no_filters(filters, order) -> None:
    # The server announces no ARTIFACT_COLLECTIONS_FILTERING_SORTING, so the client sends none.
    if filters not in (None, "", "{}", {}) or order:
        raise ApiError("Filtering and ordering artifact collections is not supported.")


def _collections_page(collections, after, first) -> dict:
    """Collections by name, the cursor the last name given."""
    first = _page_size(first)
    matching = collections
    if after:
        collections = collections.filter(name__gt=after)
    page = list(
        collections.select_related("project__entity")
        .prefetch_related("tags")
        .annotate(last_updated=Max("versions__updated_at"))
        .order_by("name")[: first + 1]
    )
    edges = [{"node": collection, "cursor": collection.name} for collection in page[:first]]
    return {
        "totalCount": matching.count(),
        "edges": edges,
        "pageInfo": _page_info(edges, len(page) > first, after),
    }


@project_type.field("artifactTypes")
def resolve_project_artifact_types(project, _, after=None, first=None):
    first = _page_size(first)
    types = (
        ArtifactCollection.objects.filter(project=project)
        .values("type")
        .annotate(created=Min("created_at"))
        .order_by("type")
    )
    if after:
        types = types.filter(type__gt=after)
    page = list(types[: first + 1])
    edges = [
        {"node": ArtifactType(project.pk, row["type"], row["created"]), "cursor": row["type"]}
        for row in page[:first]
    ]
    return {"edges": edges, "pageInfo": _page_info(edges, len(page) > first, after)}


@project_type.field("artifactType")
def resolve_project_artifact_type(project, _, name):
    created = ArtifactCollection.objects.filter(project=project, type=name).aggregate(
        created=Min("created_at")
    )["created"]
    return ArtifactType(project.pk, name, created) if created else None


@project_type.field("artifactCollections")
def resolve_project_artifact_collections(
    project, _, after=None, first=None, filters=None, order=None
):
    _no_filters(filters, order)
    return _collections_page(ArtifactCollection.objects.filter(project=project), after, first)


type_type = ObjectType("ArtifactType")


@type_type.field("id")
def resolve_type_id(kind, _):
    return node_id("ArtifactType", f"{kind.project_id}:{kind.name}")


@type_type.field("description")
def resolve_type_description(*_):
    return None


@type_type.field("artifactCollections")
def resolve_type_collections(kind, _, after=None, first=None, filters=None, order=None):
    _no_filters(filters, order)
    collections = ArtifactCollection.objects.filter(project_id=kind.project_id, type=kind.name)
    return _collections_page(collections, after, first)


@type_type.field("artifactCollection")
def resolve_type_collection(kind, _, name):
    return (
        ArtifactCollection.objects.select_related("project__entity")
        .filter(project_id=kind.project_id, type=kind.name, name=name)
        .first()
    )


@artifact_type.field("artifactType")
def resolve_artifact_type(artifact, _):
    return ArtifactType(artifact.collection.project_id, artifact.collection.type)


@sequence_type.field("updatedAt")
def resolve_sequence_updated(collection, _):
    """The last change to the collection itself or to any of its versions."""
    times = [collection.updated_at, getattr(collection, "last_updated", None)]
    return max((time for time in times if time), default=collection.created_at)


@sequence_type.field("defaultArtifactType")
def resolve_sequence_type(collection, _):
    return ArtifactType(collection.project_id, collection.type)


@sequence_type.field("tags")
def resolve_sequence_tags(collection, _):
    return {
        "edges": [
            {"node": {"id": node_id("Tag", tag.pk), "name": tag.name}}
            for tag in collection.tags.all()
        ]
    }


@query.field("artifactCollection")
def resolve_artifact_collection(_, info, id):
    collection = (
        ArtifactCollection.objects.select_related("project__entity")
        .filter(pk=pk_from_node_id(id, "ArtifactCollection"))
        .first()
    )
    project = collection and collection.project
    if collection is None or visible_project(info, project.entity.name, project.name) is None:
        return None
    return collection


@sequence_type.field("aliases")
def resolve_collection_aliases(collection, _, after=None, first=None):
    """Each alias of the collection once, by name; the cursor is the last name given."""
    aliases = ArtifactAlias.objects.filter(collection=collection).order_by("alias")
    if after:
        aliases = aliases.filter(alias__gt=after)
    first = _page_size(first)
    page = list(aliases.select_related("collection")[: first + 1])
    edges = [{"node": alias, "cursor": alias.alias} for alias in page[:first]]
    return {"edges": edges, "pageInfo": _page_info(edges, len(page) > first, after)}


# The orders `api.artifacts(..., order=...)` asks for: a field, "+" or none ascending, "-"
# descending; latest first when none is given.
VERSION_ORDERS = {"version_index": "version_index", "versionIndex": "version_index"}
VERSION_ORDERS |= {"created_at": "created_at", "createdAt": "created_at"}


def _version_order(order) -> list[str]:
    if not order:
        return ["-version_index"]
    descending = order.startswith("-")
    field = VERSION_ORDERS.get(order.lstrip("+-"))
    if field is None:
        raise ApiError(f"Versions cannot be ordered by “{order}”.")
    return [("-" if descending else "") + field, ("-" if descending else "") + "pk"]


@sequence_type.field("artifacts")
def resolve_sequence_artifacts(collection, _, after=None, first=None, order=None, filters=None):
    """The committed versions, latest first; the cursor is how many came before."""
    first = _page_size(first)
    try:
        start = int(after) if after else 0
    except ValueError:
        raise ApiError("Invalid cursor.") from None
    if not 0 <= start <= 2**31:
        raise ApiError("Invalid cursor.")
    versions = collection.versions.filter(state=Artifact.State.COMMITTED)
    page = list(
        versions.select_related("collection__project__entity")
        .prefetch_related(
            Prefetch("aliases", queryset=ArtifactAlias.objects.select_related("collection")),
            "tags",
        )
        .order_by(*_version_order(order))[start : start + first + 1]
    )
    edges = [
        {"version": artifact.version, "node": artifact, "cursor": str(start + i + 1)}
        for i, artifact in enumerate(page[:first])
    ]
    return {
        "totalCount": versions.count(),
        "edges": edges,
        "pageInfo": _page_info(edges, len(page) > first, after),
    }
