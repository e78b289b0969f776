"""The native JSON API, version 1: list and query runs, move and delete them.

Every endpoint authenticates by API key, loads its project through the same access helper as the
browser views and calls the same services; every error is JSON `{"detail": "..."}`."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from ninja import NinjaAPI, Query
from ninja.errors import AuthenticationError, HttpError, ValidationError

from projects.access import get_project_for_user
from projects.selectors import projects_writable_by
from runs import selectors, services
from runs.models import Run
from runs.query import QueryError
from runs.selectors import RunFilter, Sort
from runs.services import RunIdClash, RunsError, RunsForbidden
from teams.access import Need, viewer_refusal
from teams.services import TeamError
from teamsite.lib.emails import absolute_url

from .auth import BASIC_USERNAME, ApiKeyThrottled, api_key_auth
from .renderers import FiniteJSONRenderer
from .schemas import (
    DeleteOut,
    Error,
    MoveIn,
    MoveOut,
    QueryErrorOut,
    RunFilterIn,
    RunSelection,
    RunsPageOut,
    RunsQuery,
)

UNKNOWN_IDS_SHOWN = 10

api = NinjaAPI(
    title="Teamsite API",
    version="1",
    description=(
        "Runs beyond the wandb client: list and query, move, delete. Authenticate with an API "
        f'key: HTTP Basic with the user name "{BASIC_USERNAME}" and the key as the password, or '
        "`Authorization: Bearer <key>`."
    ),
    auth=api_key_auth,
    renderer=FiniteJSONRenderer(),
    urls_namespace="api-v1",
)

ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 422: Error}


# Errors: always JSON {"detail": "..."}.


def _error(request, status: int, detail: str, **extra):
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    if request.headers.get("Authorization"):
        detail = "Invalid API key."
    else:
        detail = (
            f'Authenticate with an API key: HTTP Basic with the user name "{BASIC_USERNAME}" '
            "and the key as the password, or Authorization: Bearer <key>."
        )
    response = _error(request, 401, detail)
    # A Basic challenge would make browsers (the interactive docs included) pop up a password
    # dialog; a Bearer one does not, and clients send Basic credentials unprompted.
    response["WWW-Authenticate"] = 'Bearer realm="Teamsite API"'
    return response


@api.exception_handler(ApiKeyThrottled)
def _throttled(request, exc):
    response = _error(request, 429, str(exc))
    response["Retry-After"] = str(exc.wait)
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    # Pydantic's error context can hold exception objects: keep what serialises.
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors
    ]
    detail = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in errors
    )
    return _error(request, 422, f"Invalid request: {detail}", errors=errors)


@api.exception_handler(QueryError)
def _bad_query(request, exc):
    return _error(request, 400, str(exc), column=exc.column)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, str(exc) or "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, str(exc) or "Forbidden.")


@api.exception_handler(TeamError)
def _refused(request, exc):
    # Every domain error (ProjectError, RunsError, ...) is a refused request: nothing changed.
    if isinstance(exc, RunsForbidden):
        return _error(request, 403, str(exc))
    if isinstance(exc, RunIdClash):
        return _error(request, 409, str(exc))
    return _error(request, 400, str(exc))


# Helpers.


def _run_filter(fields: RunFilterIn | RunsQuery) -> RunFilter:
    return RunFilter.from_params(
        {
            "state": fields.state.value if fields.state else "",
            "tag": fields.tag,
            "author": fields.author,
            "q": fields.q,
        }
    )


def _source_project(request, entity: str, project: str):
    """The project runs are moved or deleted from: 404 unless visible, 403 unless a member."""
    source = get_project_for_user(request, entity, project)
    permissions = source.viewer_entity_permissions
    if Need.VIEW in permissions and Need.WRITE not in permissions:
        raise PermissionDenied(viewer_refusal(source.entity, "move or delete runs"))
    if Need.WRITE not in permissions:
        # A public project's visitors may read it, not change it.
        raise PermissionDenied(f"You cannot change runs in {source.path}.")
    return source


def _selection(project, selection: RunSelection):
    """The selected runs; every named id must exist in the project."""
    if selection.filter is not None:
        return selectors.selected_runs(
            project, run_ids=None, run_filter=_run_filter(selection.filter)
        )
    run_ids = list(dict.fromkeys(selection.run_ids))
    found = set(
        Run.objects.filter(project=project, run_id__in=run_ids).values_list("run_id", flat=True)
    )
    unknown = [run_id for run_id in run_ids if run_id not in found]
    if unknown:
        shown = ", ".join(unknown[:UNKNOWN_IDS_SHOWN])
        more = (
            f" and {len(unknown) - UNKNOWN_IDS_SHOWN} more"
            if len(unknown) > UNKNOWN_IDS_SHOWN
            else ""
        )
        raise RunsError(f"{project.path} has no runs with these ids: {shown}{more}.")
    return selectors.selected_runs(project, run_ids=run_ids, run_filter=None)


def _target_project(user, target: str):
    """The move target, looked up only among projects the user may write to."""
    entity_name, _, project_name = target.partition("/")
    project = projects_writable_by(user).filter(entity__name=entity_name, name=project_name).first()
    if project is None:
        # The same answer whether the project is missing or only closed to this user.
        raise Http404("Target project not found.")
    return project


def _run_out(run: Run) -> dict:
    return {
        "run_id": run.run_id,
        "name": run.name,
        "state": run.state,
        "author": run.author.username if run.author else None,
        "created_at": run.created_at,
        "runtime": run.runtime,
        "tags": run.tags if isinstance(run.tags, list) else [],
        "config": run.config if isinstance(run.config, dict) else {},
        "summary": run.summary if isinstance(run.summary, dict) else {},
        "url": absolute_url(run.get_absolute_url()),
    }


# Endpoints.

RUNS_PATH = "/projects/{entity}/{project}/runs"


@api.get(RUNS_PATH, response={200: RunsPageOut, **ERRORS, 400: QueryErrorOut}, tags=["runs"])
def list_runs(request, entity: str, project: str, params: Query[RunsQuery]):
    """A page of the project's runs (50 at most), filtered and sorted; follow `next_cursor`.
    `q` takes the runs query language, e.g. `summary.acc > 0.9 and state = finished`."""
    project = get_project_for_user(request, entity, project)
    sort = Sort.parse(params.sort)
    if params.sort and str(sort) != params.sort:
        raise HttpError(400, f"Cannot sort by “{params.sort}”.")
    if params.cursor and selectors.decode_cursor(params.cursor, sort) is None:
        # A cursor from another sort (or a damaged one) would silently restart at page one.
        raise HttpError(400, "The cursor is invalid or belongs to another sort.")
    run_filter = _run_filter(params)
    run_filter.query()  # a query with a mistake is a 400 (QueryError) before anything runs
    services.project_check_quiet_runs(project=project)
    page = selectors.runs_page(project, run_filter, sort, params.cursor, exact_total=True)
    for run in page.runs:
        run.project = project  # for the run's URL, without a query per run
    return {
        "total": page.total,
        "runs": [_run_out(run) for run in page.runs],
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
    }


@api.post(f"{RUNS_PATH}/move", response={200: MoveOut, **ERRORS, 400: QueryErrorOut}, tags=["runs"])
def move_runs(request, entity: str, project: str, body: MoveIn):
    """Move the selected runs to another project: all of them or, if anything is refused, none.
    Give exactly one of `run_ids` or `filter`; both or neither is a 422."""
    source = _source_project(request, entity, project)
    with transaction.atomic():
        target = _target_project(request.user, body.target)
        moved = services.runs_move(
            actor=request.user, source=source, runs=_selection(source, body), target=target
        )
    return {"moved": moved, "target": target.path}


@api.post(
    f"{RUNS_PATH}/delete", response={200: DeleteOut, **ERRORS, 400: QueryErrorOut}, tags=["runs"]
)
def delete_runs(request, entity: str, project: str, body: RunSelection):
    """Delete the selected runs: all of them or, if anything is refused, none.
    Give exactly one of `run_ids` or `filter`; both or neither is a 422."""
    source = _source_project(request, entity, project)
    with transaction.atomic():
        deleted = services.runs_delete(
            actor=request.user, project=source, runs=_selection(source, body)
        )
    return {"deleted": deleted}
