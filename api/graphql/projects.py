"""Projects and the runs listing: the client's filters and orders go through the one run-query
model (runs.query)."""

from ariadne import ObjectType
from django.db import DataError, transaction

from projects.access import ProjectNeed
from runs.models import Run
from runs.query import QueryError, from_mongo, order_by, parse_order, to_q
from runs.services import project_check_quiet_runs

from .common import (
    MAX_PAGE,
    ApiError,
    actor_of,
    default_entity,
    json_argument,
    node_id,
    query,
    run_in,
    visible_project,
)

# A runs cursor is an offset; far past any project's runs it would overflow the database's.
MAX_RUNS_OFFSET = 2**31


@query.field("project")
@query.field("model")
def resolve_project(_, info, name=None, entityName=None):
    if entityName is None:
        entity = default_entity(actor_of(info))
        entityName = entity.name if entity else None
    return visible_project(info, entityName, name)


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


def _filtered_runs(project, filters):
    """The project's runs that match the client's MongoDB-style filters (runs.query)."""
    if isinstance(filters, str):
        filters = json_argument(filters or "{}", "filters")
    try:
        condition = to_q(from_mongo({} if filters is None else filters))
    except QueryError as error:
        raise ApiError(f"Unsupported filters: {error}") from None
    return Run.objects.filter(project=project).filter(condition)


def _order(order):
    try:
        field, descending = parse_order(order)
        return order_by(field, descending=descending)
    except QueryError as error:
        raise ApiError(str(error)) from None


def _answer(read):
    """What a query reads; a condition the database itself refuses (a regular expression
    PostgreSQL does not accept) is the client's error, not the server's."""
    try:
        with transaction.atomic():
            return read()
    except DataError as error:
        raise ApiError(f"Unsupported filters: {error}".strip()) from None


@project_type.field("runCount")
def resolve_project_run_count(project, _, filters=None):
    project_check_quiet_runs(project=project)
    runs = _filtered_runs(project, filters)
    return _answer(runs.count)


@project_type.field("runs")
def resolve_project_runs(project, _, filters=None, after=None, first=50, order=None):
    project_check_quiet_runs(project=project)
    ordering = _order(order)
    first = max(1, min(first or 50, MAX_PAGE))
    try:
        start = int(after) if after else 0
    except ValueError:
        raise ApiError("Invalid cursor.") from None
    if not 0 <= start <= MAX_RUNS_OFFSET:
        raise ApiError("Invalid cursor.")
    runs = (
        _filtered_runs(project, filters)
        .select_related("author")
        .order_by(*ordering)[start : start + first + 1]
    )
    runs = _answer(lambda: list(runs))
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
    return run_in(project, name)
