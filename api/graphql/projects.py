"""Projects and the runs listing: the client's filters and orders go through the one run-query
model (runs.query)."""

from ariadne import ObjectType
from django.db import DataError, transaction

from projects import services as project_services
from projects.access import ProjectNeed, project_rights
from projects.selectors import projects_visible_to
from runs.models import Run
from runs.query import QueryError, from_mongo, order_by, parse_order, to_q
from runs.services import project_check_quiet_runs
from teams.access import Need, entity_permissions
from teams.models import Entity

from .common import (
    MAX_PAGE,
    ApiError,
    actor_of,
    default_entity,
    json_argument,
    mutation,
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


@query.field("models")
def resolve_projects(_, info, entityName=None, after=None, first=50, order=None):
    """`api.projects(entity)`: the entity's projects the viewer may see, by name, a page at a
    time (the cursor is the last name given). An entity the viewer may not see has none."""
    actor = actor_of(info)
    entity = (
        Entity.objects.filter(name=entityName.lower()).first()
        if entityName
        else default_entity(actor)
    )
    first = max(1, min(first or 50, MAX_PAGE))
    projects = []
    if entity is not None:
        visible = projects_visible_to(actor, entity).order_by("name")
        if after:
            visible = visible.filter(name__gt=after)
        projects = list(visible[: first + 1])
        _with_viewer_rights(actor, entity, projects)
    edges = [{"node": project, "cursor": project.name} for project in projects[:first]]
    return {
        "edges": edges,
        "pageInfo": {
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else after,
            "hasNextPage": len(projects) > first,
            "hasPreviousPage": bool(after),
        },
    }


def _with_viewer_rights(actor, entity, projects):
    """What visible_project sets, for a page of one entity's projects: one query for all."""
    if not projects:
        return
    permissions = entity_permissions(actor, entity)
    for project in projects:
        project.entity = entity
        project.viewer_entity_permissions = permissions
        project.viewer_rights = project_rights(actor, project, permissions)


@mutation.field("upsertModel")
def resolve_upsert_model(_, info, input):
    """`api.create_project(name, entity)`: members of the entity create a project, named as
    the site's own form names them; an existing one is answered as it is."""
    actor = actor_of(info)
    entity_name = input.get("entityName")
    if entity_name:
        entity = Entity.objects.filter(name=entity_name.lower()).first()
    else:
        entity = default_entity(actor)
        entity_name = entity.name if entity else ""
    if entity is None or Need.WRITE not in entity_permissions(actor, entity):
        # The same words whether or not the entity exists.
        raise ApiError(
            f"You cannot create projects in “{entity_name}”: it does not exist or you are not "
            "a member of it.",
            status=403,
        )
    if not input.get("name"):
        raise ApiError("A project needs a name.")
    try:
        project, created = project_services.project_upsert(
            entity=entity,
            name=input["name"],
            creator=actor,
            description=input.get("description") or "",
        )
    except project_services.ProjectError as error:
        raise ApiError(str(error)) from None
    project = visible_project(info, entity.name, project.name)
    return {
        "project": project,
        "model": project,
        "inserted": created,
        "clientMutationId": input.get("clientMutationId"),
    }


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


@project_type.field("isBenchmark")
def resolve_project_is_benchmark(*_):
    return False


@project_type.field("access")
def resolve_project_access(project, _):
    # W&B's names: the entity's members only, or readable by everyone.
    return "USER_READ" if project.is_public else "PRIVATE"


@project_type.field("views")
def resolve_project_views(*_):
    return "{}"


@project_type.field("user")
def resolve_project_user(project, _):
    return project.created_by


def filtered_runs(project, filters):
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
    runs = filtered_runs(project, filters)
    return _answer(runs.count)


@project_type.field("runs")
def resolve_project_runs(project, _, filters=None, after=None, first=50, order=None):
    project_check_quiet_runs(project=project)
    return runs_page(
        filtered_runs(project, filters), project, after=after, first=first, order=order
    )


def runs_page(runs, project, *, after=None, first=50, order=None, everything=False):
    """A RunConnection page of `runs` (all in `project`), in the client's order; the cursor is
    an offset. Sweeps list their runs through it too (`everything`: one page of all)."""
    ordering = _order(order)
    first = runs.count() + 1 if everything else max(1, min(first or 50, MAX_PAGE))
    try:
        start = int(after) if after else 0
    except ValueError:
        raise ApiError("Invalid cursor.") from None
    if not 0 <= start <= MAX_RUNS_OFFSET:
        raise ApiError("Invalid cursor.")
    runs = runs.select_related("author", "sweep_link__sweep").order_by(*ordering)[
        start : start + first + 1
    ]
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
