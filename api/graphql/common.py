"""What every GraphQL module shares: the refusal, node ids, scalars, the access helpers and
the one `query` and `mutation` that each domain adds its fields to."""

import base64
import binascii
import json
from datetime import UTC, timedelta

from ariadne import MutationType, QueryType, ScalarType

from artifacts import services as artifact_services
from artifacts.models import Artifact
from projects.access import ProjectNeed, project_rights
from projects.models import Project
from runs.ingest import IngestError, load_json, storable
from runs.models import Run
from runs.services import RunsError, RunsForbidden
from runs.tracking import may_change_run
from teams.access import Need, entity_permissions
from teams.models import Entity, Membership, Role
from teams.selectors import default_entity_of

MAX_PAGE = 1000
# Int64 as W&B means it: what a BigIntegerField holds.
MIN_INT64, MAX_INT64 = -(2**63), 2**63 - 1


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


def actor_of(info):
    return info.context["user"]


def username_of(info) -> str:
    # WANDB_USERNAME: the member a service account's request acts for.
    return info.context["username"]


def visible_project(info, entity_name, project_name) -> Project | None:
    project = (
        Project.objects.select_related("entity")
        .filter(entity__name=(entity_name or "").lower(), name=project_name or "")
        .first()
    )
    if project is None:
        return None
    user = actor_of(info)
    permissions = entity_permissions(user, project.entity)
    rights = project_rights(user, project, permissions)
    if ProjectNeed.VIEW not in rights:
        return None
    project.viewer_rights = rights
    project.viewer_entity_permissions = permissions
    return project


def run_in(project: Project | None, run_id: str) -> Run | None:
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


def writable_run(info, entity_name, project_name, run_id) -> Run:
    project = visible_project(info, entity_name, project_name)
    run = run_in(project, run_id)
    if run is None:
        raise ApiError(f"Run {entity_name}/{project_name}/{run_id} not found.", status=404)
    if not may_change_run(actor_of(info), run, username=username_of(info)):
        raise ApiError("Only the run's author and admins can change it.", status=403)
    return run


def visible_artifact(info, artifact_id) -> Artifact:
    artifact = (
        Artifact.objects.select_related("collection__project__entity", "created_by_run__author")
        .filter(pk=pk_from_node_id(artifact_id, "Artifact"))
        .first()
    )
    if (
        artifact is None
        or visible_project(
            info, artifact.collection.project.entity.name, artifact.collection.project.name
        )
        is None
    ):
        raise ApiError("Artifact not found.", status=404)
    return artifact


def writable_artifact(info, artifact_id) -> Artifact:
    """A version changes only through whoever may change the run that logs it (any member
    for a version logged without a run)."""
    artifact = visible_artifact(info, artifact_id)
    actor = actor_of(info)
    run = artifact.created_by_run
    if run is not None:
        run.project = artifact.collection.project
        allowed = may_change_run(actor, run, username=username_of(info))
    else:
        allowed = Need.WRITE in entity_permissions(actor, artifact.collection.project.entity)
    if not allowed:
        raise ApiError("Only whoever may change the run that logs it can change it.", 403)
    return artifact


def pending_artifact(info, artifact_id) -> Artifact:
    artifact = writable_artifact(info, artifact_id)
    try:
        artifact_services.check_pending(artifact)
    except RunsError as error:
        raise refusal(error) from error
    return artifact


def refusal(error: RunsError) -> ApiError:
    return ApiError(str(error), status=403 if isinstance(error, RunsForbidden) else 400)


def json_argument(value, what: str):
    """A JSONString argument decoded as every client value is: depth bounded, text that no
    database holds replaced (runs.ingest)."""
    try:
        return storable(load_json(value, what) if isinstance(value, str) else value)
    except IngestError as error:
        raise ApiError(str(error)) from None
    except ValueError:
        raise ApiError(f"{what} is not valid JSON.") from None


def default_entity(user) -> Entity | None:
    entity = default_entity_of(user)
    if entity is None:
        # Never a team they only view: the client logs there when a script names no entity.
        writable = Membership.objects.filter(user=user).exclude(role=Role.VIEWER)
        membership = writable.select_related("entity").first()
        entity = membership.entity if membership else None
    return entity


# The roots: each domain module adds its fields to these very instances.

query = QueryType()
mutation = MutationType()
