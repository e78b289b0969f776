"""Reads of the team model registry that span relations, each in a fixed number of queries."""

from django.db.models import Count, F, Max, Prefetch, Q

from projects.models import Project
from projects.selectors import all_projects_visible_to
from teams.models import Entity

from .models import AliasMove, ArtifactAlias, ArtifactCollection, ArtifactLink
from .registry import LINKED_FROM_LIVE_PROJECT, REGISTRY_PROJECT
from .services import VERSION_ALIAS

SUMMARY_METRICS = 3


def registered_models(project: Project, user):
    """The portfolios of a registry project with their link count, last link and aliases;
    links count only where the user may see the project of the version they link."""
    shown = Q(links__artifact__collection__project__in=all_projects_visible_to(user).values("pk"))
    return (
        ArtifactCollection.objects.filter(project=project, kind=ArtifactCollection.Kind.PORTFOLIO)
        .annotate(
            link_count=Count("links", distinct=True, filter=shown),
            last_linked=Max("links__created_at", filter=shown),
        )
        .prefetch_related(Prefetch("aliases", queryset=ArtifactAlias.objects.order_by("alias")))
        .order_by("name")
    )


def registered_model_versions(portfolio: ArtifactCollection, user) -> list[ArtifactLink]:
    """Its links the user may see (those of versions logged in a project the user may see),
    newest first, each with `alias_names` (its aliases in this portfolio) and `metrics` (a few
    numeric summary values of the run that logged the version)."""
    links = list(
        ArtifactLink.objects.filter(portfolio=portfolio)
        .filter(artifact__collection__project__in=all_projects_visible_to(user).values("pk"))
        .select_related(
            "artifact__collection__project__entity",
            "artifact__created_by_run__project__entity",
            "linked_by",
        )
        .order_by("-version_index")
    )
    by_artifact = {}
    for alias in ArtifactAlias.objects.filter(collection=portfolio).order_by("alias"):
        by_artifact.setdefault(alias.artifact_id, []).append(alias.alias)
    for link in links:
        link.alias_names = by_artifact.get(link.artifact_id, [])
        run = link.artifact.created_by_run
        link.metrics = _metrics(run.summary) if run else []
    return links


def _metrics(summary: dict) -> list[tuple[str, object]]:
    numbers = [
        (key, value)
        for key, value in sorted((summary or {}).items())
        if not key.startswith("_")
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ]
    return numbers[:SUMMARY_METRICS]


def alias_moves(portfolio: ArtifactCollection, limit: int = 200):
    return AliasMove.objects.filter(portfolio=portfolio)[:limit]


def recent_alias_moves(team: Entity, limit: int = 50) -> list[AliasMove]:
    """The team's latest alias moves across its registered models, deleted ones included
    (`portfolio` None; `portfolio_name` names them)."""
    return list(AliasMove.objects.filter(entity=team).select_related("portfolio")[:limit])


def find_registered_version(entity: Entity, name: str, version: str) -> ArtifactLink | None:
    """The version (`v2`) or alias (`production`) of the entity's registered model `name`, with
    the artifact version it links (its collection and producing run) and `alias_names`, its
    aliases in the registry; None if there is no such model or version. Two queries."""
    links = (
        ArtifactLink.objects.filter(
            portfolio__project__entity=entity,
            portfolio__project__name=REGISTRY_PROJECT,
            portfolio__name=name,
            portfolio__kind=ArtifactCollection.Kind.PORTFOLIO,
            portfolio__project__trashed_at__isnull=True,
        )
        .filter(LINKED_FROM_LIVE_PROJECT)
        .select_related("portfolio", "artifact__collection__project", "artifact__created_by_run")
    )
    number = VERSION_ALIAS.match(version)
    if number:
        link = links.filter(version_index=int(number.group(1))).first()
    else:
        link = links.filter(
            artifact__aliases__collection=F("portfolio"), artifact__aliases__alias=version
        ).first()
    if link is not None:
        aliases = ArtifactAlias.objects.filter(
            collection__in=[link.portfolio_id, link.artifact.collection_id], artifact=link.artifact
        ).order_by("alias")
        link.alias_names, link.artifact.alias_names = [], []
        for collection_id, alias in aliases.values_list("collection_id", "alias"):
            if collection_id == link.portfolio_id:
                link.alias_names.append(alias)
            else:
                link.artifact.alias_names.append(alias)
    return link
