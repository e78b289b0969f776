"""Changing logged versions (description, metadata, tags, aliases, deletion) and walking the
lineage between versions and runs: the runs that used or logged a version, the versions a run
used or logged."""

import hashlib

from ariadne import UnionType
from django.db import transaction
from django.db.models import Prefetch, Q

from artifacts import services as artifact_services
from artifacts.models import Artifact, ArtifactAlias
from artifacts.registry import portfolio_aliases_set
from projects.access import ProjectNeed, project_rights
from projects.models import Project
from runs.models import Run
from runs.services import RunsError
from teams.access import Need, entity_permissions, viewer_refusal

from .artifacts import artifact_type
from .common import ApiError, actor_of, json_argument, mutation, node_id, refusal, visible_artifact
from .runs import run_type

NOT_FOUND = "Artifact not found."


def editable_artifact(info, artifact_id) -> Artifact:
    """A version whoever may log to its project may change; to anyone else it is not found."""
    artifact = visible_artifact(info, artifact_id)
    entity = artifact.collection.project.entity
    permissions = entity_permissions(actor_of(info), entity)
    if Need.VIEW in permissions and Need.WRITE not in permissions:
        raise ApiError(viewer_refusal(entity, "change artifacts"), status=403)
    if Need.WRITE not in permissions:
        raise ApiError(NOT_FOUND, status=404)
    return artifact


def _tag_names(tags) -> list[str]:
    return [tag.get("tagName") for tag in tags or []]


def _aliases_by_collection(artifact: Artifact, aliases) -> tuple[list[str], dict]:
    """The alias names for the version's own collection, and those for each registered model
    the version is linked into ({link: names}); an alias of any other collection is refused."""
    project = artifact.collection.project
    own, linked = [], {}
    links = {
        (link.portfolio.project.entity.name, link.portfolio.project.name, link.portfolio.name): link
        for link in artifact.links.select_related("portfolio__project__entity")
    }
    for alias in aliases:
        address = (
            alias["entityName"].lower(),
            alias["projectName"],
            alias["artifactCollectionName"],
        )
        if address == (project.entity.name, project.name, artifact.collection.name):
            own.append(alias["alias"])
        elif address in links:
            linked.setdefault(links[address], []).append(alias["alias"])
        else:
            raise ApiError(
                f"The alias {alias['alias']} names a collection that "
                f"{project.entity.name}/{project.name}/{artifact.collection.name}:"
                f"{artifact.version} is not in."
            )
    return own, linked


def _change_aliases(info, artifact: Artifact, aliases, *, add: bool) -> None:
    """Aliases of the version's own collection change directly; those of a registered model
    through the registry, which keeps protected aliases to admins and records every move."""
    own, linked = _aliases_by_collection(artifact, aliases)
    try:
        with transaction.atomic():
            if own and add:
                artifact_services.aliases_add(artifact, own)
            elif own:
                artifact_services.aliases_delete(artifact, own)
            for link, names in linked.items():
                changes = {"add": names} if add else {"remove": names}
                portfolio_aliases_set(link=link, actor=actor_of(info), **changes)
    except RunsError as error:
        raise refusal(error) from error


@mutation.field("updateArtifact")
def resolve_update_artifact(_, info, input):
    artifact = editable_artifact(info, input["artifactID"])
    metadata = input.get("metadata")
    if metadata is not None:
        metadata = json_argument(metadata, "metadata")
        if not isinstance(metadata, dict):
            raise ApiError("metadata must be a JSON object.")
    try:
        artifact = artifact_services.artifact_update(
            artifact,
            description=input.get("description"),
            metadata=metadata,
            tags_to_add=_tag_names(input.get("tagsToAdd")),
            tags_to_delete=_tag_names(input.get("tagsToDelete")),
        )
    except RunsError as error:
        raise refusal(error) from error
    return {"artifact": visible_artifact(info, node_id("Artifact", artifact.pk))}


@mutation.field("addAliases")
def resolve_add_aliases(_, info, input):
    artifact = editable_artifact(info, input["artifactID"])
    _change_aliases(info, artifact, input["aliases"], add=True)
    return {"success": True}


@mutation.field("deleteAliases")
def resolve_delete_aliases(_, info, input):
    artifact = editable_artifact(info, input["artifactID"])
    _change_aliases(info, artifact, input["aliases"], add=False)
    return {"success": True}


@mutation.field("deleteArtifact")
def resolve_delete_artifact(_, info, input):
    artifact = editable_artifact(info, input["artifactID"])
    answer = Artifact(pk=artifact.pk)  # what the answer names once the row is gone
    try:
        artifact_services.artifact_delete(artifact, delete_aliases=bool(input.get("deleteAliases")))
    except RunsError as error:
        raise refusal(error) from error
    return {"artifact": answer}


@artifact_type.field("tags")
def resolve_artifact_tags(artifact, _):
    return [{"id": node_id("Tag", tag.pk), "name": tag.name} for tag in artifact.tags.all()]


@artifact_type.field("commitHash")
def resolve_artifact_commit_hash(artifact, _):
    """A committed version's own hash: its id and content digest."""
    if artifact.state != Artifact.State.COMMITTED:
        return None
    return hashlib.sha256(f"{artifact.pk}:{artifact.digest}".encode()).hexdigest()[:12]


def _offset(after) -> int:
    try:
        start = int(after) if after else 0
    except ValueError:
        raise ApiError("Invalid cursor.") from None
    if not 0 <= start <= 2**31:
        raise ApiError("Invalid cursor.")
    return start


def _page(queryset, after, first) -> dict:
    """A page of a list ordered already; the cursor is how many came before."""
    start, first = _offset(after), max(1, min(first or 50, 1000))
    page = list(queryset[start : start + first + 1])
    edges = [{"node": node, "cursor": str(start + i + 1)} for i, node in enumerate(page[:first])]
    return {
        "totalCount": queryset.count(),
        "edges": edges,
        "pageInfo": {
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else after,
            "hasNextPage": len(page) > first,
            "hasPreviousPage": bool(after),
        },
    }


def _visible_runs(info, runs) -> list:
    """The runs whose project the viewer may see (a version is used across projects)."""
    actor, rights = actor_of(info), {}
    visible = []
    for run in runs:
        if run.project_id not in rights:
            permissions = entity_permissions(actor, run.project.entity)
            rights[run.project_id] = ProjectNeed.VIEW in project_rights(
                actor, run.project, permissions
            )
        if rights[run.project_id]:
            visible.append(run)
    return visible


@artifact_type.field("usedBy")
def resolve_artifact_used_by(artifact, info, after=None, first=None):
    runs = artifact.used_by.select_related("project__entity", "author").order_by("pk")
    visible = _visible_runs(info, runs)
    start, first = _offset(after), max(1, min(first or 50, 1000))
    page = visible[start : start + first]
    edges = [{"node": run, "cursor": str(start + i + 1)} for i, run in enumerate(page)]
    return {
        "totalCount": len(visible),
        "edges": edges,
        "pageInfo": {
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else after,
            "hasNextPage": start + first < len(visible),
            "hasPreviousPage": bool(after),
        },
    }


artifact_creator_type = UnionType("ArtifactCreator")


@artifact_creator_type.type_resolver
def resolve_artifact_creator_type(*_):
    return "Run"


@artifact_type.field("createdBy")
def resolve_artifact_created_by(artifact, info):
    if artifact.created_by_run_id is None:
        return None
    run = Run.objects.select_related("project__entity", "author").get(pk=artifact.created_by_run_id)
    visible = _visible_runs(info, [run])
    return visible[0] if visible else None


def _versions():
    return (
        Artifact.objects.committed()
        .select_related("collection__project__entity")
        .prefetch_related(
            Prefetch("aliases", queryset=ArtifactAlias.objects.select_related("collection")),
            "tags",
        )
    )


@run_type.field("outputArtifacts")
def resolve_run_output_artifacts(run, _, after=None, first=None):
    versions = _versions().filter(
        Q(created_by_run=run) | Q(pk__in=run.relogged_artifacts.values("pk"))
    )
    return _page(versions.order_by("created_at", "pk"), after, first)


@run_type.field("inputArtifacts")
def resolve_run_input_artifacts(run, info, after=None, first=None):
    # A run may use a version of another project: it shows to those who may see that project.
    versions = _versions().filter(pk__in=run.used_artifacts.values("pk"))
    projects = Project.objects.select_related("entity").filter(
        pk__in=versions.values("collection__project_id")
    )
    actor = actor_of(info)
    visible = [
        project.pk
        for project in projects
        if ProjectNeed.VIEW
        in project_rights(actor, project, entity_permissions(actor, project.entity))
    ]
    versions = versions.filter(collection__project_id__in=visible)
    return _page(versions.order_by("created_at", "pk"), after, first)
