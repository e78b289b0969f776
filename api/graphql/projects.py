"""Projects and the runs listing with its filters."""

from ariadne import ObjectType
from django.db.models import Q

from projects.access import ProjectNeed
from runs.models import Run
from runs.selectors import has_tag
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
        filters = json_argument(filters or "{}", "filters")
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
    return run_in(project, name)
