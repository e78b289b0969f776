"""Artifacts: versions, aliases, collections, memberships and the mutations that log them."""

import json
from dataclasses import dataclass

from ariadne import InterfaceType, ObjectType

from artifacts import multipart, registry
from artifacts import services as artifact_services
from artifacts.models import Artifact, ArtifactCollection, ArtifactLink
from runs.services import RunsError
from runs.tracking import may_change_run, writable_entity, writable_project

from .. import transfer
from .common import (
    MAX_PAGE,
    ApiError,
    actor_of,
    json_argument,
    mutation,
    node_id,
    pending_artifact,
    pk_from_node_id,
    query,
    refusal,
    run_in,
    shown_link,
    username_of,
    visible_artifact,
    writable_artifact,
    writable_run,
)
from .projects import project_type


@query.field("artifact")
def resolve_artifact(_, info, id):
    try:
        return visible_artifact(info, id)
    except ApiError:
        return None


@project_type.field("artifact")
def resolve_project_artifact(project, info, name):
    # A portfolio's version is the version it links to.
    membership = resolve_project_artifact_membership(project, info, name)
    return membership.artifact if membership else None


@project_type.field("artifactCollection")
def resolve_project_artifact_collection(project, _, name):
    return ArtifactCollection.objects.filter(project=project, name=name).first()


@project_type.field("artifactCollectionMembership")
def resolve_project_artifact_membership(project, info, name):
    collection_name, _, alias = name.partition(":")
    portfolio = ArtifactCollection.objects.filter(
        project=project, name=collection_name, kind=ArtifactCollection.Kind.PORTFOLIO
    ).first()
    if portfolio is not None:
        link = shown_link(info, registry.resolve_link(portfolio, alias))
        return ArtifactMembership(link.artifact, link) if link else None
    artifact = artifact_services.resolve_artifact(project, name)
    return ArtifactMembership(artifact) if artifact else None


artifact_type = ObjectType("Artifact")


@artifact_type.field("id")
def resolve_artifact_id(artifact, _):
    return node_id("Artifact", artifact.pk)


@artifact_type.field("state")
def resolve_artifact_state(artifact, _):
    return artifact.state


@artifact_type.field("metadata")
def resolve_artifact_metadata(artifact, _):
    return json.dumps(artifact.metadata)


@artifact_type.field("artifactSequence")
def resolve_artifact_sequence(artifact, _):
    return artifact.collection


@artifact_type.field("ttlDurationSeconds")
def resolve_artifact_ttl(*_):
    return -2  # W&B's "no time to live"


@artifact_type.field("ttlIsInherited")
def resolve_artifact_ttl_inherited(*_):
    return True


@artifact_type.field("historyStep")
def resolve_artifact_history_step(artifact, _):
    return artifact.history_step


@artifact_type.field("aliases")
def resolve_artifact_aliases(artifact, _):
    if "aliases" in getattr(artifact, "_prefetched_objects_cache", {}):
        return list(artifact.aliases.all())  # a page of versions read them at once
    return list(artifact.aliases.select_related("collection"))


@artifact_type.field("currentManifest")
def resolve_artifact_manifest(artifact, info):
    return _manifest(info, artifact, upload=False)


def _manifest(info, artifact: Artifact, *, upload: bool) -> dict:
    request = info.context["request"]
    name = artifact_services.MANIFEST_NAME
    file = {"id": node_id("File", f"manifest-{artifact.pk}"), "name": name, "uploadHeaders": []}
    if upload:
        # Through the site on every storage: the site reads the manifest (merges a distributed
        # version's parts, counts the files) as it stores it.
        file["uploadUrl"] = transfer.transfer_url(request, transfer.PUT_MANIFEST, artifact.pk, name)
    else:
        file["directUrl"] = transfer.download_url(
            request, transfer.GET_MANIFEST, artifact.pk, artifact.manifest_storage_name, name
        )
    return {
        "id": node_id("ArtifactManifest", artifact.pk),
        "type": "FULL",
        "file": file,
        "artifact": artifact,
    }


alias_type = ObjectType("ArtifactAlias")


@alias_type.field("id")
def resolve_alias_id(alias, _):
    return node_id("ArtifactAlias", alias.pk)


@alias_type.field("artifactCollection")
def resolve_alias_collection(alias, _):
    return alias.collection


collection_interface = InterfaceType("ArtifactCollection")


@collection_interface.type_resolver
def resolve_collection_type(collection, *_):
    return "ArtifactPortfolio" if collection.is_portfolio else "ArtifactSequence"


sequence_type = ObjectType("ArtifactSequence")


@sequence_type.field("id")
def resolve_sequence_id(collection, _):
    return node_id("ArtifactCollection", collection.pk)


@sequence_type.field("latestArtifact")
def resolve_sequence_latest(collection, _):
    return (
        collection.versions.filter(state=Artifact.State.COMMITTED)
        .order_by("-version_index")
        .first()
    )


@sequence_type.field("artifactMembership")
def resolve_sequence_membership(collection, _, aliasName):
    artifact = artifact_services.resolve_artifact(
        collection.project, f"{collection.name}:{aliasName}"
    )
    return ArtifactMembership(artifact) if artifact else None


@dataclass
class ArtifactMembership:
    """An artifact version as a member of its collection (W&B's ArtifactCollectionMembership):
    its own sequence, or a portfolio it is linked into (`link`)."""

    artifact: Artifact
    link: ArtifactLink | None = None

    @property
    def collection(self):
        return self.link.portfolio if self.link else self.artifact.collection


membership_type = ObjectType("ArtifactCollectionMembership")


@membership_type.field("id")
def resolve_membership_id(membership, _):
    if membership.link:
        return node_id("ArtifactCollectionMembership", f"-{membership.link.pk}")
    return node_id("ArtifactCollectionMembership", membership.artifact.pk)


@membership_type.field("versionIndex")
def resolve_membership_version(membership, _):
    return (membership.link or membership.artifact).version_index


@membership_type.field("createdAt")
def resolve_membership_created(membership, _):
    return (membership.link or membership.artifact).created_at


@membership_type.field("aliases")
def resolve_membership_aliases(membership, _):
    # Only the aliases of this collection: a version has others in each portfolio.
    return list(
        membership.artifact.aliases.filter(collection=membership.collection).select_related(
            "collection"
        )
    )


@membership_type.field("artifactCollection")
def resolve_membership_collection(membership, _):
    return membership.collection


@membership_type.field("files")
def resolve_membership_files(membership, info, after=None, first=None, names=None):
    """Stored files and the manifest's references (s3://, file://, ...), by name: the client
    downloads what this lists, a reference from where it points."""
    artifact = membership.artifact
    files = artifact.files.exclude(size=None).order_by("name")
    if names is not None:
        names = names[:MAX_PAGE]
        files = files.filter(name__in=names)
    matching = files
    references = sorted(
        (name, entry)
        for name, entry in artifact_services.reference_entries(artifact).items()
        if names is None or name in names
    )
    if after:
        files = files.filter(name__gt=after)
    first = max(1, min(first or 50, 10_000))
    request = info.context["request"]
    nodes = [
        {
            "id": node_id("File", f"artifact-{file.pk}"),
            "name": file.name,
            "displayName": file.name,
            "directUrl": url,
            "url": url,
            "sizeBytes": file.size,
            "md5": file.md5,
            "digest": file.md5,
            "storagePath": file.storage_name,
            "uploadHeaders": [],
        }
        for file in files[: first + 1]
        for url in [
            transfer.download_url(
                request, transfer.GET_ARTIFACT_FILE, file.pk, file.storage_name, file.name
            )
        ]
    ]
    nodes += [
        {
            "id": node_id("File", f"reference-{artifact.pk}-{name}"),
            "name": name,
            "displayName": name,
            "directUrl": entry["ref"],
            "url": entry["ref"],
            "sizeBytes": entry.get("size"),
            "digest": entry.get("digest"),
            "uploadHeaders": [],
        }
        for name, entry in references
        if not after or name > after
    ][: first + 1]
    page = sorted(nodes, key=lambda node: node["name"])[: first + 1]
    edges = [{"node": node, "cursor": node["name"]} for node in page[:first]]
    return {
        "matching": matching,
        "uncounted": len(references),
        "edges": edges,
        "pageInfo": {
            "endCursor": edges[-1]["cursor"] if edges else None,
            "hasNextPage": len(page) > first,
            "hasPreviousPage": bool(after),
        },
    }


def _json_input(value, what):
    if value is None:
        return None
    parsed = json_argument(value, what)
    if not isinstance(parsed, dict):
        raise ApiError(f"{what} must be a JSON object.")
    return parsed


@mutation.field("createArtifact")
def resolve_create_artifact(_, info, input):
    actor = actor_of(info)
    try:
        entity = writable_entity(actor, input["entityName"])
        project = writable_project(actor, entity, input["projectName"])
        run = None
        if input.get("runName"):
            run = run_in(project, input["runName"])
            if run is None or not may_change_run(actor, run, username=username_of(info)):
                raise ApiError(f"Run {input['runName']} not found in {project.path}.", 404)
        names = input.get("artifactCollectionNames") or [""]
        name = input.get("artifactCollectionName") or names[0]
        aliases = [
            alias["alias"]
            for alias in input.get("aliases") or []
            if alias.get("artifactCollectionName") in (None, name)
        ]
        artifact = artifact_services.artifact_create(
            project=project,
            run=run,
            type_name=input["artifactTypeName"],
            name=name,
            digest=input["digest"],
            description=input.get("description") or "",
            metadata=_json_input(input.get("metadata"), "metadata"),
            aliases=aliases,
            history_step=input.get("historyStep"),
            deduplicate=input.get("enableDigestDeduplication") is not False,
            tags=[tag.get("tagName") for tag in input.get("tags") or []],
            storage_region=input.get("storageRegion"),
            distributed_id=input.get("distributedID") or "",
        )
    except RunsError as error:
        raise refusal(error) from error
    return {"artifact": artifact}


@mutation.field("createArtifactManifest")
def resolve_create_artifact_manifest(_, info, input):
    artifact = pending_artifact(info, input["artifactID"])
    if input.get("type") == "INCREMENTAL" and input.get("baseArtifactID"):
        try:
            artifact_services.artifact_manifest_base(
                artifact, visible_artifact(info, input["baseArtifactID"])
            )
        except RunsError as error:
            raise refusal(error) from error
    return {"artifactManifest": _manifest(info, artifact, upload=True)}


@mutation.field("updateArtifactManifest")
def resolve_update_artifact_manifest(_, info, input):
    pk = pk_from_node_id(input["artifactManifestID"], "ArtifactManifest")
    artifact = pending_artifact(info, node_id("Artifact", pk))
    return {"artifactManifest": _manifest(info, artifact, upload=True)}


@mutation.field("createArtifactFiles")
def resolve_create_artifact_files(_, info, input):
    request = info.context["request"]
    by_artifact = {}
    for spec in input["artifactFiles"]:
        by_artifact.setdefault(spec["artifactID"], []).append(spec)
    nodes = {}
    try:
        parts = {
            (spec["artifactID"], spec["name"]): multipart.announced_parts(
                spec.get("uploadPartsInput")
            )
            for spec in input["artifactFiles"]
        }
        for artifact_id, specs in by_artifact.items():
            artifact = writable_artifact(info, artifact_id)
            created = artifact_services.artifact_files_create(
                artifact=artifact, files=[(spec["name"], spec["md5"]) for spec in specs]
            )
            for file, needs_upload in created:
                # No upload link: the same bytes are stored already.
                url, headers, in_parts = None, [], None
                if needs_upload:
                    in_parts = multipart.multipart_links(file, parts[(artifact_id, file.name)])
                    url, headers = transfer.upload_link(
                        request,
                        transfer.PUT_ARTIFACT_FILE,
                        file.pk,
                        file.storage_name,
                        file.name,
                        md5=file.md5,
                    )
                nodes[(artifact_id, file.name)] = {
                    "storagePath": file.storage_name,
                    "uploadUrl": url,
                    "uploadHeaders": headers,
                    "uploadMultipartUrls": in_parts,
                    "artifact": artifact,
                }
    except RunsError as error:
        raise refusal(error) from error
    edges = [{"node": nodes[(spec["artifactID"], spec["name"])]} for spec in input["artifactFiles"]]
    return {"files": {"edges": edges, "pageInfo": {"hasNextPage": False, "hasPreviousPage": False}}}


@mutation.field("commitArtifact")
def resolve_commit_artifact(_, info, input):
    artifact = writable_artifact(info, input["artifactID"])
    try:
        return {"artifact": artifact_services.artifact_commit(artifact)}
    except RunsError as error:
        raise refusal(error) from error


@mutation.field("completeMultipartUploadArtifact")
def resolve_complete_multipart_upload(_, info, input):
    artifact = writable_artifact(info, input["artifactID"])
    try:
        artifact_file = multipart.multipart_complete(
            artifact,
            storage_path=input["storagePath"],
            upload_id=input["uploadID"],
            parts=input["completedParts"],
            abort=input["completeMultipartAction"] == "Abort",
        )
    except RunsError as error:
        raise refusal(error) from error
    return {"digest": artifact_file.md5}


@mutation.field("useArtifact")
def resolve_use_artifact(_, info, input):
    run = writable_run(info, input["entityName"], input["projectName"], input["runName"])
    artifact = visible_artifact(info, input["artifactID"])
    artifact_services.artifact_use(artifact=artifact, run=run)
    return {"artifact": artifact}
