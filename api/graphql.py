"""The wandb-compatible GraphQL API: `schema.graphql` bound to resolvers that call the same
services and access rules as the site. Things the key may not see resolve to null, exactly as
things that do not exist."""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path

from ariadne import (
    InterfaceType,
    MutationType,
    ObjectType,
    QueryType,
    ScalarType,
    convert_camel_case_to_snake,
    load_schema_from_path,
    make_executable_schema,
)
from django.db.models import Q
from graphql import GraphQLObjectType

from projects.access import ProjectNeed, project_rights
from projects.models import Project
from runs import artifacts as artifact_services
from runs import history as run_history
from runs.ingest import IngestError, load_json, storable
from runs.models import Artifact, ArtifactCollection, Run, RunFile
from runs.selectors import has_tag
from runs.services import RunsError, RunsForbidden, project_check_quiet_runs
from runs.tracking import (
    alert_create,
    may_change_run,
    run_files_create,
    run_update_by_client,
    run_upsert,
    wrap_config,
    writable_entity,
    writable_project,
)
from teams.access import Need, entity_permissions
from teams.models import Entity, Membership
from teams.selectors import default_entity_of

from . import transfer

DEFAULT_PROJECT = "uncategorized"
MAX_PAGE = 1000
MAX_HISTORY_SAMPLES = 100_000
# Int64 as W&B means it: what a BigIntegerField holds.
MIN_INT64, MAX_INT64 = -(2**63), 2**63 - 1
# A runs cursor is an offset; far past any project's runs it would overflow the database's.
MAX_RUNS_OFFSET = 2**31


class ApiError(Exception):
    """A refusal the client shows to its user; `status` is the HTTP status of the answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def node_id(type_name: str, pk) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def pk_from_node_id(value, type_name: str) -> int:
    try:
        kind, _, pk = base64.b64decode(str(value), validate=True).decode().partition(":")
        if kind == type_name:
            return int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiError(f"{value!r} is not a {type_name} id.", status=404)


# Scalars

datetime_scalar = ScalarType("DateTime")


@datetime_scalar.serializer
def serialize_datetime(value):
    # W&B answers naive UTC timestamps, which the client parses as such.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if value else None


json_string_scalar = ScalarType("JSONString")


@json_string_scalar.serializer
def serialize_json_string(value):
    return value if isinstance(value, str) else json.dumps(value)


int64_scalar = ScalarType("Int64")


@int64_scalar.serializer
def serialize_int64(value):
    return int(value)


@int64_scalar.value_parser
def parse_int64(value):
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("Int64 must be an integer.")
    number = int(value)
    if not MIN_INT64 <= number <= MAX_INT64:
        raise ValueError(f"Int64 must be from {MIN_INT64} to {MAX_INT64}.")
    return number


duration_scalar = ScalarType("Duration")


@duration_scalar.value_parser
def parse_duration(value):
    """Milliseconds, as the client sends them."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Duration must be a number of milliseconds.")
    return timedelta(milliseconds=value)


json_scalar = ScalarType("JSON")

# Access


def _actor(info):
    return info.context["user"]


def _username(info) -> str:
    # WANDB_USERNAME: the member a service account's request acts for.
    return info.context["username"]


def _visible_project(info, entity_name, project_name) -> Project | None:
    project = (
        Project.objects.select_related("entity")
        .filter(entity__name=(entity_name or "").lower(), name=project_name or "")
        .first()
    )
    if project is None:
        return None
    user = _actor(info)
    permissions = entity_permissions(user, project.entity)
    rights = project_rights(user, project, permissions)
    if ProjectNeed.VIEW not in rights:
        return None
    project.viewer_rights = rights
    project.viewer_entity_permissions = permissions
    return project


def _run_in(project: Project | None, run_id: str) -> Run | None:
    if project is None:
        return None
    run = (
        Run.objects.select_related("author", "project__entity")
        .filter(project=project, run_id=run_id or "")
        .first()
    )
    if run is not None:
        run.project = project
    return run


def _writable_run(info, entity_name, project_name, run_id) -> Run:
    project = _visible_project(info, entity_name, project_name)
    run = _run_in(project, run_id)
    if run is None:
        raise ApiError(f"Run {entity_name}/{project_name}/{run_id} not found.", status=404)
    if not may_change_run(_actor(info), run, username=_username(info)):
        raise ApiError("Only the run's author and admins can change it.", status=403)
    return run


def _visible_artifact(info, artifact_id) -> Artifact:
    artifact = (
        Artifact.objects.select_related("collection__project__entity", "created_by_run__author")
        .filter(pk=pk_from_node_id(artifact_id, "Artifact"))
        .first()
    )
    if (
        artifact is None
        or _visible_project(
            info, artifact.collection.project.entity.name, artifact.collection.project.name
        )
        is None
    ):
        raise ApiError("Artifact not found.", status=404)
    return artifact


def _writable_artifact(info, artifact_id) -> Artifact:
    """A version changes only through whoever may change the run that logs it (any member
    for a version logged without a run)."""
    artifact = _visible_artifact(info, artifact_id)
    actor = _actor(info)
    run = artifact.created_by_run
    if run is not None:
        run.project = artifact.collection.project
        allowed = may_change_run(actor, run, username=_username(info))
    else:
        allowed = Need.WRITE in entity_permissions(actor, artifact.collection.project.entity)
    if not allowed:
        raise ApiError("Only whoever may change the run that logs it can change it.", 403)
    return artifact


def _pending_artifact(info, artifact_id) -> Artifact:
    artifact = _writable_artifact(info, artifact_id)
    try:
        artifact_services.check_pending(artifact)
    except RunsError as error:
        raise _refusal(error) from error
    return artifact


def _refusal(error: RunsError) -> ApiError:
    return ApiError(str(error), status=403 if isinstance(error, RunsForbidden) else 400)


def _json_argument(value, what: str):
    """A JSONString argument decoded as every client value is: depth bounded, text that no
    database holds replaced (runs.ingest)."""
    try:
        return storable(load_json(value, what) if isinstance(value, str) else value)
    except IngestError as error:
        raise ApiError(str(error)) from None
    except ValueError:
        raise ApiError(f"{what} is not valid JSON.") from None


# Queries

query = QueryType()


@query.field("viewer")
def resolve_viewer(_, info):
    return _actor(info)


@query.field("serverInfo")
def resolve_server_info(*_):
    # No optional features: the client then uses its plainest paths (no gzip, no multipart).
    return {"features": [], "cliVersionInfo": {}, "latestLocalVersionInfo": None}


@query.field("entity")
def resolve_entity(_, info, name):
    entity = Entity.objects.filter(name=name.lower()).first()
    if entity is None or Need.VIEW not in entity_permissions(_actor(info), entity):
        return None
    return entity


@query.field("project")
@query.field("model")
def resolve_project(_, info, name=None, entityName=None):
    if entityName is None:
        entity = _default_entity(_actor(info))
        entityName = entity.name if entity else None
    return _visible_project(info, entityName, name)


@query.field("artifact")
def resolve_artifact(_, info, id):
    try:
        return _visible_artifact(info, id)
    except ApiError:
        return None


def _default_entity(user) -> Entity | None:
    entity = default_entity_of(user)
    if entity is None:
        membership = Membership.objects.filter(user=user).select_related("entity").first()
        entity = membership.entity if membership else None
    return entity


user_type = ObjectType("User")


@user_type.field("id")
def resolve_user_id(user, _):
    return node_id("User", user.pk)


@user_type.field("name")
def resolve_user_name(user, _):
    return user.get_full_name() or user.username


@user_type.field("entity")
def resolve_user_entity(user, _):
    entity = _default_entity(user)
    return entity.name if entity else None


@user_type.field("admin")
def resolve_user_admin(user, _):
    return False


@user_type.field("flags")
def resolve_user_flags(user, _):
    return "{}"


@user_type.field("teams")
def resolve_user_teams(user, _, first=None):
    memberships = Membership.objects.filter(
        user=user, entity__kind=Entity.Kind.TEAM
    ).select_related("entity")
    return {"edges": [{"node": membership.entity} for membership in memberships]}


entity_type = ObjectType("Entity")


@entity_type.field("id")
def resolve_entity_id(entity, _):
    return node_id("Entity", entity.pk)


@entity_type.field("isTeam")
def resolve_entity_is_team(entity, _):
    return entity.is_team


@entity_type.field("organization")
def resolve_entity_organization(*_):
    return None


project_type = ObjectType("Project")


@project_type.field("id")
def resolve_project_id(project, _):
    return node_id("Project", project.pk)


@project_type.field("internalId")
def resolve_project_internal_id(project, _):
    return str(project.pk)


@project_type.field("entityName")
def resolve_project_entity_name(project, _):
    return project.entity.name


@project_type.field("readOnly")
def resolve_project_read_only(project, info):
    return ProjectNeed.WRITE not in getattr(project, "viewer_rights", ())


@project_type.field("createdAt")
def resolve_project_created_at(project, _):
    return project.created_at


RUN_ORDER = {
    "created_at": "created_at",
    "createdAt": "created_at",
    "heartbeat_at": "heartbeat_at",
    "heartbeatAt": "heartbeat_at",
    "display_name": "name",
    "displayName": "name",
    "name": "run_id",
}
RUN_FILTER_FIELDS = {
    "state": "state",
    "display_name": "name",
    "displayName": "name",
    "name": "run_id",
    "group": "group",
    "jobType": "job_type",
    "job_type": "job_type",
    "username": "author__username",
}


def _run_filter(filters) -> Q:
    """The MongoDB-style filters of `api.runs(filters=...)` that Teamsite answers."""
    if filters is None:
        return Q()
    if isinstance(filters, str):
        # Decoded once at the top: the nested parts below are depth-bounded already.
        filters = _json_argument(filters or "{}", "filters")
    if not isinstance(filters, dict):
        raise ApiError("filters must be a JSON object.")
    condition = Q()
    for key, value in filters.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list):
                raise ApiError(f"{key} takes a list of filters.")
            parts = [_run_filter(part) for part in value]
            combined = Q()
            for part in parts:
                combined = combined & part if key == "$and" else combined | part
            condition &= combined
        elif key == "tags":
            values = value.get("$in") if isinstance(value, dict) else [value]
            if not isinstance(values, list):
                raise ApiError("tags takes a tag or {'$in': [tags]}.")
            any_tag = Q()
            for tag in values:
                any_tag |= has_tag(tag) if isinstance(tag, str) else Q(pk__in=[])
            condition &= any_tag
        elif key in RUN_FILTER_FIELDS:
            field = RUN_FILTER_FIELDS[key]
            if (
                isinstance(value, dict)
                and set(value) == {"$in"}
                and isinstance(value["$in"], list)
                and all(isinstance(item, str) for item in value["$in"])
            ):
                condition &= Q(**{f"{field}__in": value["$in"]})
            elif isinstance(value, str):
                condition &= Q(**{field: value})
            else:
                raise ApiError(f"Unsupported filter on {key}: use a value or {{'$in': [...]}}.")
        else:
            raise ApiError(f"Filtering runs by “{key}” is not supported.")
    return condition


def _filtered_runs(project, filters):
    return Run.objects.filter(project=project).filter(_run_filter(filters))


@project_type.field("runCount")
def resolve_project_run_count(project, _, filters=None):
    project_check_quiet_runs(project=project)
    return _filtered_runs(project, filters).count()


@project_type.field("runs")
def resolve_project_runs(project, _, filters=None, after=None, first=50, order=None):
    project_check_quiet_runs(project=project)
    order = order or "-created_at"
    descending, field = order.startswith("-"), order.lstrip("+-")
    if field not in RUN_ORDER:
        raise ApiError(f"Ordering runs by “{field}” is not supported.")
    direction = "-" if descending else ""
    first = max(1, min(first or 50, MAX_PAGE))
    try:
        start = int(after) if after else 0
    except ValueError:
        raise ApiError("Invalid cursor.") from None
    if not 0 <= start <= MAX_RUNS_OFFSET:
        raise ApiError("Invalid cursor.")
    runs = list(
        _filtered_runs(project, filters)
        .select_related("author")
        .order_by(f"{direction}{RUN_ORDER[field]}", f"{direction}id")[start : start + first + 1]
    )
    has_next = len(runs) > first
    runs = runs[:first]
    for run in runs:
        run.project = project
    edges = [{"node": run, "cursor": str(start + i + 1)} for i, run in enumerate(runs)]
    return {
        "edges": edges,
        "pageInfo": {
            "endCursor": edges[-1]["cursor"] if edges else after,
            "hasNextPage": has_next,
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
        },
    }


@project_type.field("run")
@project_type.field("bucket")
def resolve_project_run(project, _, name, missingOk=None):
    return _run_in(project, name)


@project_type.field("artifact")
def resolve_project_artifact(project, _, name):
    return artifact_services.resolve_artifact(project, name)


@project_type.field("artifactCollection")
def resolve_project_artifact_collection(project, _, name):
    return ArtifactCollection.objects.filter(project=project, name=name).first()


@project_type.field("artifactCollectionMembership")
def resolve_project_artifact_membership(project, _, name):
    artifact = artifact_services.resolve_artifact(project, name)
    return ArtifactMembership(artifact) if artifact else None


# Runs

run_type = ObjectType("Run")


@run_type.field("id")
def resolve_run_id(run, _):
    return node_id("Run", run.pk)


@run_type.field("name")
def resolve_run_name(run, _):
    return run.run_id


@run_type.field("displayName")
def resolve_run_display_name(run, _):
    return run.display_name


@run_type.field("description")
def resolve_run_description(run, _):
    return run.notes


@run_type.field("sweepName")
def resolve_run_sweep(*_):
    return None


@run_type.field("config")
def resolve_run_config(run, _):
    return json.dumps(wrap_config(run.config))


@run_type.field("wandbConfig")
def resolve_run_wandb_config(run, _, keys=None):
    internal = run.config.get("_wandb", {})
    if isinstance(internal, dict) and keys:
        internal = {key: internal[key] for key in keys if key in internal}
    return json.dumps(internal)


@run_type.field("commit")
def resolve_run_commit(run, _):
    return run.git_commit or None


@run_type.field("jobType")
def resolve_run_job_type(run, _):
    return run.job_type or None


@run_type.field("group")
def resolve_run_group(run, _):
    return run.group or None


@run_type.field("readOnly")
def resolve_run_read_only(run, info):
    # The permissions _visible_project read: one query per request, not one per run.
    permissions = getattr(run.project, "viewer_entity_permissions", None)
    return not may_change_run(_actor(info), run, permissions, username=_username(info))


@run_type.field("updatedAt")
def resolve_run_updated_at(run, _):
    return run.heartbeat_at or run.created_at


@run_type.field("stopped")
def resolve_run_stopped(*_):
    return False


@run_type.field("systemMetrics")
def resolve_run_system_metrics(run, _):
    return json.dumps(run_history.latest_system_metrics(run))


@run_type.field("summaryMetrics")
def resolve_run_summary(run, _):
    return json.dumps(run.summary)


@run_type.field("historyLineCount")
def resolve_run_history_line_count(run, _):
    return run.history_line_count


@run_type.field("eventsLineCount")
def resolve_run_events_line_count(run, _):
    return run.events_line_count


@run_type.field("logLineCount")
def resolve_run_log_line_count(run, _):
    return run.console_line_count


@run_type.field("historyTail")
@run_type.field("eventsTail")
def resolve_run_tail(*_):
    return "[]"


@run_type.field("user")
def resolve_run_user(run, _):
    return run.author


@run_type.field("projectId")
def resolve_run_project_id(run, _):
    return run.project_id


@run_type.field("historyKeys")
def resolve_run_history_keys(run, _):
    return run_history.history_keys(run)


def _samples(samples, default=500):
    samples = default if samples is None else samples
    if samples < 0 or samples > MAX_HISTORY_SAMPLES:
        raise ApiError(f"samples must be between 0 and {MAX_HISTORY_SAMPLES}.")
    return samples


@run_type.field("history")
def resolve_run_history(run, _, samples=None, minStep=None, maxStep=None):
    if minStep is not None or maxStep is not None:
        rows = run_history.history_page(
            run,
            min_step=minStep or 0,
            max_step=maxStep if maxStep is not None else 2**62,
            limit=_samples(samples),
        )
    else:
        rows = run_history.history(run, samples=_samples(samples))
    return [json.dumps(row) for row in rows]


@run_type.field("events")
def resolve_run_events(run, _, samples=None):
    rows = run_history.history(
        run, samples=_samples(samples), stream=run_history.MetricKey.Stream.EVENTS
    )
    return [json.dumps(row) for row in rows]


@run_type.field("sampledHistory")
def resolve_run_sampled_history(run, _, specs):
    result = []
    for spec in specs:
        spec = _json_argument(spec, "A spec")
        if not isinstance(spec, dict) or "keys" not in spec:
            raise ApiError('Each spec must be {"keys": [...], "samples": N}.')
        keys, samples = spec["keys"], spec.get("samples", 500)
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise ApiError("A spec's keys must be a list of strings.")
        if isinstance(samples, bool) or not isinstance(samples, int):
            raise ApiError("A spec's samples must be an integer.")
        result.append(run_history.sampled_history(run, keys, _samples(samples)))
    return result


@run_type.field("parquetHistory")
def resolve_run_parquet_history(run, _, liveKeys):
    # No parquet exports: the client reads live rows, then pages through `history`.
    steps = run_history.all_steps(run, run_history.MetricKey.Stream.HISTORY)
    return {"parquetUrls": [], "liveData": [{"_step": step} for step in steps]}


@run_type.field("fileCount")
def resolve_run_file_count(run, _):
    return run.files.exclude(uploaded_at=None).count()


def _like_to_regex(pattern: str) -> str:
    """The client's SQL LIKE pattern (`%` any text, `_` one character) as a regex."""
    return (
        "^"
        + "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
        + "$"
    )


def _run_file_node(request, run_file: RunFile) -> dict:
    url = transfer.transfer_url(request, transfer.GET_RUN_FILE, run_file.pk, run_file.name)
    return {
        "id": node_id("File", run_file.pk),
        "name": run_file.name,
        "url": url,
        "directUrl": url,
        "sizeBytes": run_file.size or 0,
        "mimetype": None,
        "updatedAt": run_file.uploaded_at,
        "md5": run_file.md5 or None,
        "uploadHeaders": [],
    }


@run_type.field("files")
def resolve_run_files(run, info, names=None, after=None, first=50, pattern=None):
    files = run.files.exclude(uploaded_at=None).order_by("name")
    if names:
        files = files.filter(name__in=names)
    if pattern:
        files = files.filter(name__regex=_like_to_regex(pattern))
    if after:
        files = files.filter(name__gt=after)
    first = max(1, min(first or 50, MAX_PAGE))
    page = list(files[: first + 1])
    request = info.context["request"]
    edges = [{"node": _run_file_node(request, f), "cursor": f.name} for f in page[:first]]
    return {
        "edges": edges,
        "pageInfo": {
            "endCursor": edges[-1]["cursor"] if edges else None,
            "hasNextPage": len(page) > first,
            "hasPreviousPage": bool(after),
        },
    }


# Artifacts

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


@artifact_type.field("artifactType")
def resolve_artifact_type(artifact, _):
    return {"id": node_id("ArtifactType", artifact.collection_id), "name": artifact.collection.type}


@artifact_type.field("artifactSequence")
def resolve_artifact_sequence(artifact, _):
    return artifact.collection


@artifact_type.field("ttlDurationSeconds")
def resolve_artifact_ttl(*_):
    return -2  # W&B's "no time to live"


@artifact_type.field("ttlIsInherited")
def resolve_artifact_ttl_inherited(*_):
    return True


@artifact_type.field("tags")
def resolve_artifact_tags(*_):
    return []


@artifact_type.field("commitHash")
def resolve_artifact_commit_hash(*_):
    return None


@artifact_type.field("historyStep")
def resolve_artifact_history_step(artifact, _):
    return artifact.history_step


@artifact_type.field("aliases")
def resolve_artifact_aliases(artifact, _):
    return list(artifact.aliases.select_related("collection"))


@artifact_type.field("currentManifest")
def resolve_artifact_manifest(artifact, info):
    return _manifest(info, artifact, upload=False)


def _manifest(info, artifact: Artifact, *, upload: bool) -> dict:
    request = info.context["request"]
    name = artifact_services.MANIFEST_NAME
    file = {"id": node_id("File", f"manifest-{artifact.pk}"), "name": name, "uploadHeaders": []}
    if upload:
        file["uploadUrl"] = transfer.transfer_url(request, transfer.PUT_MANIFEST, artifact.pk, name)
    else:
        file["directUrl"] = transfer.transfer_url(request, transfer.GET_MANIFEST, artifact.pk, name)
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
def resolve_collection_type(*_):
    return "ArtifactSequence"


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
    """An artifact version as a member of its collection (W&B's ArtifactCollectionMembership)."""

    artifact: Artifact


membership_type = ObjectType("ArtifactCollectionMembership")


@membership_type.field("id")
def resolve_membership_id(membership, _):
    return node_id("ArtifactCollectionMembership", membership.artifact.pk)


@membership_type.field("versionIndex")
def resolve_membership_version(membership, _):
    return membership.artifact.version_index


@membership_type.field("createdAt")
def resolve_membership_created(membership, _):
    return membership.artifact.created_at


@membership_type.field("aliases")
def resolve_membership_aliases(membership, _):
    return list(membership.artifact.aliases.select_related("collection"))


@membership_type.field("artifactCollection")
def resolve_membership_collection(membership, _):
    return membership.artifact.collection


@membership_type.field("files")
def resolve_membership_files(membership, info, after=None, first=None):
    files = membership.artifact.files.exclude(size=None).order_by("name")
    if after:
        files = files.filter(name__gt=after)
    first = max(1, min(first or 50, 10_000))
    page = list(files[: first + 1])
    request = info.context["request"]
    edges = [
        {
            "node": {
                "id": node_id("File", f"artifact-{file.pk}"),
                "name": file.name,
                "directUrl": transfer.transfer_url(
                    request, transfer.GET_ARTIFACT_FILE, file.pk, file.name
                ),
                "sizeBytes": file.size,
                "md5": file.md5,
                "uploadHeaders": [],
            },
            "cursor": file.name,
        }
        for file in page[:first]
    ]
    return {
        "edges": edges,
        "pageInfo": {
            "endCursor": edges[-1]["cursor"] if edges else None,
            "hasNextPage": len(page) > first,
            "hasPreviousPage": bool(after),
        },
    }


# Mutations

mutation = MutationType()


@mutation.field("upsertBucket")
def resolve_upsert_bucket(_, info, input):
    actor = _actor(info)
    try:
        if input.get("id") and not input.get("entityName"):
            # The public API's run.update(): the run by its node id.
            run = (
                Run.objects.select_related("author", "project__entity")
                .filter(pk=pk_from_node_id(input["id"], "Run"))
                .first()
            )
            if (
                run is None
                or _visible_project(info, run.project.entity.name, run.project.name) is None
            ):
                raise ApiError("Run not found.", status=404)
            return {
                "bucket": run_update_by_client(
                    actor=actor, run=run, fields=input, username=_username(info)
                )
            }
        entity_name = input.get("entityName")
        if not entity_name:
            entity = _default_entity(actor)
            entity_name = entity.name if entity else ""
        run, created = run_upsert(
            actor=actor,
            entity_name=entity_name,
            project_name=input.get("modelName") or DEFAULT_PROJECT,
            run_id=input.get("name") or "",
            username=_username(info),
            fields=input,
        )
    except RunsError as error:
        raise _refusal(error) from error
    return {"bucket": run, "inserted": created}


@mutation.field("createRunFiles")
def resolve_create_run_files(_, info, input):
    run = _writable_run(info, input["entityName"], input["projectName"], input["runName"])
    try:
        files = run_files_create(
            actor=_actor(info), run=run, names=input["files"], username=_username(info)
        )
    except RunsError as error:
        raise _refusal(error) from error
    request = info.context["request"]
    return {
        "runID": node_id("Run", run.pk),
        "uploadHeaders": [],
        "files": [
            {
                "id": node_id("File", file.pk),
                "name": file.name,
                "uploadUrl": transfer.transfer_url(
                    request, transfer.PUT_RUN_FILE, file.pk, file.name
                ),
                "uploadHeaders": [],
            }
            for file in files
        ],
    }


@mutation.field("notifyScriptableRunAlert")
def resolve_notify_alert(_, info, input):
    run = _writable_run(info, input["entityName"], input["projectName"], input["runName"])
    try:
        alert_create(
            actor=_actor(info),
            run=run,
            title=input["title"],
            text=input["text"],
            level=input.get("severity") or "INFO",
            wait=input.get("waitDuration"),
            username=_username(info),
        )
    except RunsError as error:
        raise _refusal(error) from error
    return {"success": True}


def _json_input(value, what):
    if value is None:
        return None
    parsed = _json_argument(value, what)
    if not isinstance(parsed, dict):
        raise ApiError(f"{what} must be a JSON object.")
    return parsed


@mutation.field("createArtifact")
def resolve_create_artifact(_, info, input):
    actor = _actor(info)
    try:
        entity = writable_entity(actor, input["entityName"])
        project = writable_project(actor, entity, input["projectName"])
        run = None
        if input.get("runName"):
            run = _run_in(project, input["runName"])
            if run is None or not may_change_run(actor, run, username=_username(info)):
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
        )
    except RunsError as error:
        raise _refusal(error) from error
    return {"artifact": artifact}


@mutation.field("createArtifactManifest")
def resolve_create_artifact_manifest(_, info, input):
    artifact = _pending_artifact(info, input["artifactID"])
    return {"artifactManifest": _manifest(info, artifact, upload=True)}


@mutation.field("updateArtifactManifest")
def resolve_update_artifact_manifest(_, info, input):
    pk = pk_from_node_id(input["artifactManifestID"], "ArtifactManifest")
    artifact = _pending_artifact(info, node_id("Artifact", pk))
    return {"artifactManifest": _manifest(info, artifact, upload=True)}


@mutation.field("createArtifactFiles")
def resolve_create_artifact_files(_, info, input):
    request = info.context["request"]
    by_artifact = {}
    for spec in input["artifactFiles"]:
        by_artifact.setdefault(spec["artifactID"], []).append(spec)
    nodes = {}
    try:
        for artifact_id, specs in by_artifact.items():
            artifact = _writable_artifact(info, artifact_id)
            created = artifact_services.artifact_files_create(
                artifact=artifact, files=[(spec["name"], spec["md5"]) for spec in specs]
            )
            for file, needs_upload in created:
                nodes[(artifact_id, file.name)] = {
                    "storagePath": file.storage_name,
                    # No upload link: the same bytes are stored already.
                    "uploadUrl": transfer.transfer_url(
                        request, transfer.PUT_ARTIFACT_FILE, file.pk, file.name
                    )
                    if needs_upload
                    else None,
                    "uploadHeaders": [],
                    "uploadMultipartUrls": None,
                    "artifact": artifact,
                }
    except RunsError as error:
        raise _refusal(error) from error
    edges = [{"node": nodes[(spec["artifactID"], spec["name"])]} for spec in input["artifactFiles"]]
    return {"files": {"edges": edges, "pageInfo": {"hasNextPage": False, "hasPreviousPage": False}}}


@mutation.field("commitArtifact")
def resolve_commit_artifact(_, info, input):
    artifact = _writable_artifact(info, input["artifactID"])
    try:
        return {"artifact": artifact_services.artifact_commit(artifact)}
    except RunsError as error:
        raise _refusal(error) from error


@mutation.field("useArtifact")
def resolve_use_artifact(_, info, input):
    run = _writable_run(info, input["entityName"], input["projectName"], input["runName"])
    artifact = _visible_artifact(info, input["artifactID"])
    artifact_services.artifact_use(artifact=artifact, run=run)
    return {"artifact": artifact}


def _default_resolver(parent, info, **_):
    """Dicts by the field's name; model instances by its snake_case attribute (fileCount ->
    file_count), the fields needing more have resolvers above."""
    if isinstance(parent, dict):
        return parent.get(info.field_name)
    return getattr(parent, convert_camel_case_to_snake(info.field_name), None)


def _with_default_resolvers(schema):
    for graphql_type in schema.type_map.values():
        if isinstance(graphql_type, GraphQLObjectType) and not graphql_type.name.startswith("__"):
            for field in graphql_type.fields.values():
                if field.resolve is None:
                    field.resolve = _default_resolver
    return schema


schema = make_executable_schema(
    load_schema_from_path(Path(__file__).with_name("schema.graphql")),
    query,
    mutation,
    user_type,
    entity_type,
    project_type,
    run_type,
    artifact_type,
    alias_type,
    collection_interface,
    sequence_type,
    membership_type,
    datetime_scalar,
    json_string_scalar,
    int64_scalar,
    duration_scalar,
    json_scalar,
)
_with_default_resolvers(schema)
