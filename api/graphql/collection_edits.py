"""Changing a collection as a whole, as `ArtifactCollection.save()` of the wandb client does:
`updateArtifactSequence` / `updateArtifactPortfolio` (name, description),
`moveArtifactSequence` (the type of a sequence) and the tag assignments of a collection."""

from artifacts import collection_edits as edits
from artifacts.models import ArtifactCollection
from runs.services import RunsError
from teams.access import Need, entity_permissions

from .common import (
    ApiError,
    actor_of,
    mutation,
    node_id,
    pk_from_node_id,
    refusal,
    visible_project,
)

NOT_FOUND = {
    ArtifactCollection.Kind.SEQUENCE: "Artifact collection not found.",
    ArtifactCollection.Kind.PORTFOLIO: "Registered model not found.",
}


def _changeable(info, collection: ArtifactCollection | None, not_found: str):
    project = collection and collection.project
    if collection is None or visible_project(info, project.entity.name, project.name) is None:
        raise ApiError(not_found, status=404)
    if Need.WRITE not in entity_permissions(actor_of(info), project.entity):
        raise ApiError(f"Only members of {project.entity.name} can change its artifacts.", 403)
    return collection


def changeable_collection(info, collection_id, kind) -> ArtifactCollection:
    """A sequence or portfolio the actor may change (write access to its entity); 404 if it
    cannot see it, 403 if it can only read it."""
    collection = (
        ArtifactCollection.objects.select_related("project__entity")
        .filter(pk=pk_from_node_id(collection_id, "ArtifactCollection"), kind=kind)
        .first()
    )
    return _changeable(info, collection, NOT_FOUND[kind])


def _named_collection(info, input) -> ArtifactCollection:
    project = visible_project(info, input["entityName"], input["projectName"])
    collection = project and (
        ArtifactCollection.objects.select_related("project__entity")
        .filter(project=project, name=input["artifactCollectionName"])
        .first()
    )
    return _changeable(info, collection, "Artifact collection not found.")


def _update(info, collection: ArtifactCollection, input) -> dict:
    changes = {key: input[key] for key in ("name", "description") if key in input}
    try:
        collection = edits.collection_update(collection, actor=actor_of(info), **changes)
    except RunsError as error:
        raise refusal(error) from error
    return {"artifactCollection": collection}


@mutation.field("updateArtifactSequence")
def resolve_update_sequence(_, info, input):
    sequence = changeable_collection(
        info, input["artifactSequenceID"], ArtifactCollection.Kind.SEQUENCE
    )
    return _update(info, sequence, input)


@mutation.field("updateArtifactPortfolio")
def resolve_update_portfolio(_, info, input):
    portfolio = changeable_collection(
        info, input["artifactPortfolioID"], ArtifactCollection.Kind.PORTFOLIO
    )
    return _update(info, portfolio, input)


@mutation.field("moveArtifactSequence")
def resolve_move_sequence(_, info, input):
    sequence = changeable_collection(
        info, input["artifactSequenceID"], ArtifactCollection.Kind.SEQUENCE
    )
    try:
        sequence = edits.collection_retype(sequence, input["destinationArtifactTypeName"])
    except RunsError as error:
        raise refusal(error) from error
    return {"artifactCollection": sequence}


def _tag_names(input) -> list:
    return [tag.get("tagName") for tag in input["tags"]]


@mutation.field("createArtifactCollectionTagAssignments")
def resolve_add_collection_tags(_, info, input):
    collection = _named_collection(info, input)
    try:
        edits.collection_tags_add(collection, _tag_names(input))
    except RunsError as error:
        raise refusal(error) from error
    added = collection.tags.filter(name__in=_tag_names(input))
    return {"tags": [{"id": node_id("Tag", tag.pk), "name": tag.name} for tag in added]}


@mutation.field("deleteArtifactCollectionTagAssignments")
def resolve_delete_collection_tags(_, info, input):
    collection = _named_collection(info, input)
    try:
        edits.collection_tags_delete(collection, _tag_names(input))
    except RunsError as error:
        raise refusal(error) from error
    return {"success": True}
