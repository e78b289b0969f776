"""The team model registry as the wandb client reaches it: `linkArtifact`, `unlinkArtifact`,
`deleteArtifactPortfolio`, portfolios (ArtifactPortfolio) and a version's memberships; and
`deleteArtifactSequence`, which takes the version's links with it."""

from ariadne import ObjectType
from django.db.models import Prefetch

from artifacts import registry
from artifacts.models import ArtifactAlias, ArtifactCollection, ArtifactLink
from runs.services import RunsError
from runs.tracking import writable_entity, writable_project

from .artifact_lists import (
    _page_info,
    _page_size,
    resolve_collection_aliases,
    resolve_sequence_tags,
    resolve_sequence_type,
    resolve_sequence_updated,
)
from .artifacts import ArtifactMembership, artifact_type, sequence_type
from .collection_edits import changeable_collection
from .common import (
    ApiError,
    actor_of,
    mutation,
    node_id,
    refusal,
    visible_artifact,
)

portfolio_type = ObjectType("ArtifactPortfolio")


def _portfolio(info, portfolio_id) -> ArtifactCollection:
    return changeable_collection(info, portfolio_id, ArtifactCollection.Kind.PORTFOLIO)


@mutation.field("linkArtifact")
def resolve_link_artifact(_, info, input):
    actor = actor_of(info)
    if not input.get("artifactID"):
        raise ApiError("Name the version to link (artifactID).")
    artifact = visible_artifact(info, input["artifactID"])
    try:
        if input.get("artifactPortfolioID"):
            portfolio = _portfolio(info, input["artifactPortfolioID"])
            project, name = portfolio.project, portfolio.name
        else:
            source_entity = artifact.collection.project.entity.name
            entity = writable_entity(actor, input.get("entityName") or source_entity)
            project = writable_project(
                actor, entity, input.get("projectName") or registry.REGISTRY_PROJECT
            )
            name = input.get("artifactPortfolioName") or ""
        aliases = [
            alias["alias"]
            for alias in input.get("aliases") or []
            if alias.get("artifactCollectionName") in (None, "", name)
        ]
        link = registry.artifact_link(
            artifact=artifact, project=project, portfolio_name=name, aliases=aliases, actor=actor
        )
    except RunsError as error:
        raise refusal(error) from error
    return {
        "versionIndex": link.version_index,
        "artifactMembership": ArtifactMembership(artifact, link),
    }


@mutation.field("unlinkArtifact")
def resolve_unlink_artifact(_, info, input):
    portfolio = _portfolio(info, input["artifactPortfolioID"])
    artifact = visible_artifact(info, input["artifactID"])
    link = ArtifactLink.objects.filter(portfolio=portfolio, artifact=artifact).first()
    if link is None:
        raise ApiError(f"{artifact} is not linked to {portfolio.name}.", status=404)
    link.portfolio = portfolio
    try:
        registry.artifact_unlink(link=link, actor=actor_of(info))
    except RunsError as error:
        raise refusal(error) from error
    return {"artifactID": input["artifactID"], "success": True}


@mutation.field("deleteArtifactPortfolio")
def resolve_delete_portfolio(_, info, input):
    portfolio = _portfolio(info, input["artifactPortfolioID"])
    try:
        registry.portfolio_delete(portfolio=portfolio, actor=actor_of(info))
    except RunsError as error:
        raise refusal(error) from error
    portfolio.state = "DELETED"
    return {"artifactCollection": portfolio}


@mutation.field("deleteArtifactSequence")
def resolve_delete_sequence(_, info, input):
    sequence = changeable_collection(
        info, input["artifactSequenceID"], ArtifactCollection.Kind.SEQUENCE
    )
    try:
        registry.sequence_delete(sequence=sequence, actor=actor_of(info))
    except RunsError as error:
        raise refusal(error) from error
    sequence.state = "DELETED"
    return {"artifactCollection": sequence}


@artifact_type.field("artifactMemberships")
def resolve_artifact_memberships(artifact, _, after=None, first=None):
    """Its own sequence first, then each portfolio it is linked into (oldest link first)."""
    links = ArtifactLink.objects.select_related("portfolio__project__entity").filter(
        artifact=artifact, portfolio__project__trashed_at__isnull=True
    )
    memberships = [ArtifactMembership(artifact)] + [
        ArtifactMembership(artifact, link) for link in links.order_by("created_at", "pk")
    ]
    start = int(after) if after and after.isdigit() else 0
    first = _page_size(first)
    edges = [
        {"node": membership, "cursor": str(start + i + 1)}
        for i, membership in enumerate(memberships[start : start + first])
    ]
    return {"edges": edges, "pageInfo": _page_info(edges, len(memberships) > start + first, after)}


@sequence_type.field("state")
@portfolio_type.field("state")
def resolve_collection_state(collection, _):
    return getattr(collection, "state", "READY")


@portfolio_type.field("id")
def resolve_portfolio_id(portfolio, _):
    return node_id("ArtifactCollection", portfolio.pk)


portfolio_type.set_field("updatedAt", resolve_sequence_updated)
portfolio_type.set_field("defaultArtifactType", resolve_sequence_type)
portfolio_type.set_field("tags", resolve_sequence_tags)
portfolio_type.set_field("aliases", resolve_collection_aliases)


@portfolio_type.field("latestArtifact")
def resolve_portfolio_latest(portfolio, _):
    link = registry.resolve_link(portfolio, registry.LATEST)
    return link.artifact if link else None


@portfolio_type.field("artifactMembership")
def resolve_portfolio_membership(portfolio, _, aliasName):
    link = registry.resolve_link(portfolio, aliasName)
    return ArtifactMembership(link.artifact, link) if link else None


@portfolio_type.field("artifacts")
def resolve_portfolio_artifacts(portfolio, _, after=None, first=None, order=None, filters=None):
    """Its links, newest first, each as the version it links to; the cursor is how many came
    before."""
    first = _page_size(first)
    try:
        start = int(after) if after else 0
    except ValueError:
        raise ApiError("Invalid cursor.") from None
    if not 0 <= start <= 2**31:
        raise ApiError("Invalid cursor.")
    links = portfolio.links.filter(registry.LINKED_FROM_LIVE_PROJECT)
    page = list(
        links.select_related("artifact__collection__project__entity")
        .prefetch_related(
            Prefetch(
                "artifact__aliases", queryset=ArtifactAlias.objects.select_related("collection")
            )
        )
        .order_by("-version_index")[start : start + first + 1]
    )
    edges = [
        {"version": link.version, "node": link.artifact, "cursor": str(start + i + 1)}
        for i, link in enumerate(page[:first])
    ]
    return {
        "totalCount": links.count(),
        "edges": edges,
        "pageInfo": _page_info(edges, len(page) > first, after),
    }
