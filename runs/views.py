import json
import shlex

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import (
    Http404,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from projects import selectors as project_selectors
from projects.access import ProjectNeed, get_project_for_user
from projects.services import ProjectError, project_create
from teams import selectors as team_selectors
from teams.access import Need
from teamsite.lib.downloads import stored_file_download

from . import charts, code, grouping_views, selectors, services, trash, trash_views
from .access import get_run_for_user
from .file_preview import file_preview
from .forms import RunEditForm, RunNameForm
from .media import media_panels, plotly_bundle
from .media.presets import chart_specs
from .media.summary import summary_rows
from .models import MetricKey, Run, SavedView
from .panels_views import panels_context
from .query import QueryError
from .query.complete import suggest
from .query.nodes import MAX_TEXT
from .reproduce import reproduction
from .saved_views import can_save_views, views_menu
from .selectors import RunFilter, Sort
from .system_metrics import system_metric

MAX_EXTRA_COLUMNS = 12


def _extra_columns(params):
    """The summary/config columns the user added (`col=summary.loss`), in order, once each."""
    columns = []
    for column in params.getlist("col"):
        if selectors.json_column_key(column) and column not in columns:
            columns.append(column)
    return columns[:MAX_EXTRA_COLUMNS]


@csp_override(settings.CHART_PAGE_CSP)
def project_page(request, entity, project):
    project = get_project_for_user(request, entity, project)
    services.project_check_quiet_runs(project=project)
    typed = RunFilter.from_params(request.GET)
    # A query with a mistake is not applied: the table shows the runs the rest selects.
    run_filter, query_error = typed.checked()
    sort = Sort.parse(request.GET.get("sort"))
    page = selectors.runs_page(project, run_filter, sort, request.GET.get("cursor"))
    keys = selectors.column_keys(project)
    columns = _extra_columns(request.GET)
    context = {
        "project": project,
        "page": page,
        "rows": [(run, [_cell(run, column) for column in columns]) for run in page.runs],
        "columns": [_column_links(request, sort, column) for column in columns],
        "keys": keys,
        "filter": run_filter,
        "query_text": typed.q,
        "query_error": query_error,
        "query_mark": _query_mark(typed.q, query_error),
        "sort": sort,
        "sort_links": {key: sort.toggled(key) for key in selectors.BASE_SORTS},
        "states": Run.State.choices,
        "can_write": ProjectNeed.WRITE in project.viewer_rights,
        "is_admin": Need.ADMIN in project.viewer_entity_permissions,
        "saved_views": views_menu(project, request.user),
        "can_save": can_save_views(project),
        "state": request.GET.urlencode(),
        "kind": SavedView.Kind.TABLE,
        **panels_context(request, project, run_filter, keys),
        "grouping": grouping_views.grouped_table(request, project, run_filter),
        "trash_count": trash.in_trash(project).count(),
    }
    if not request.htmx:
        if page.total == 0 and not run_filter.is_active and context["can_write"]:
            context["base_url"] = _base_url(request)
        context["alerts"] = selectors.recent_alerts(project)
        context["artifact_collections"] = selectors.artifact_collections(project)
        context.update(_workspace_context(request, project, page.runs[:WORKSPACE_RUNS_SHOWN]))
    if request.user.is_authenticated:
        context["targets"] = project_selectors.projects_writable_by(request.user).exclude(
            pk=project.pk
        )
        context["target_entities"] = team_selectors.entities_writable_by(request.user)
    if request.htmx and request.htmx.target == "runs-region":
        return render(request, "runs/project.html#runs_region", context)
    return render(request, "runs/project.html", context)


def _query_mark(text, error):
    """The query split around the column of its mistake, to mark it under the search box."""
    if error is None or error.column is None:
        return None
    index = error.column - 1
    return {"before": text[:index], "at": text[index : index + 1], "after": text[index + 1 :]}


def query_suggestions(request, entity, project):
    """Run fields and the project's config and summary keys that fit the word at the cursor
    of the query box (`q`, `at`): a list the box shows under itself."""
    project = get_project_for_user(request, entity, project)
    text = request.GET.get("q", "")[:MAX_TEXT]
    try:
        at = int(request.GET.get("at", len(text)))
    except ValueError:
        at = len(text)
    completion = suggest(text, at, lambda: selectors.column_keys(project))
    context = {"completion": completion, "query": text}
    return render(request, "runs/project.html#query_suggestions", context)


def _base_url(request) -> str:
    """Where scripts reach this site: SITE_URL when set, else the address the browser used."""
    if settings.SITE_URL_SET:
        return settings.SITE_URL
    return request.build_absolute_uri("/").rstrip("/")


def _column_links(request, sort, column):
    """A user-added column's header: its sort link and the link that removes it."""
    remaining = request.GET.copy()
    remaining.setlist("col", [c for c in request.GET.getlist("col") if c != column])
    remaining.pop("cursor", None)
    return {
        "key": column,
        "label": column.partition(".")[2],
        "source": column.partition(".")[0],
        "sort": sort.toggled(column),
        "active": sort.key == column,
        "remove_query": remaining.urlencode(),
    }


def _cell(run, column):
    value = selectors.json_column_value(run, column)
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else value


def _selection(request, project):
    """The runs a bulk form names: the ticked ones, or all matching the filter it carries."""
    if request.POST.get("select_all") == "1":
        try:
            return selectors.selected_runs(
                project, run_ids=None, run_filter=RunFilter.from_params(request.POST)
            )
        except QueryError as error:
            # Never widen a bad query to every run: refuse, and say why.
            raise services.RunsError(f"The filter's query has a mistake: {error}.") from None
    return selectors.selected_runs(project, run_ids=request.POST.getlist("run"), run_filter=None)


def _back_to_table(project, request):
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = project.get_absolute_url()
    return redirect(back)


def _target_project(request):
    """The move target, only among projects the user may write to; or a new one made inline."""
    target = request.POST.get("target", "")
    if target == "__new__":
        entity = (
            team_selectors.entities_writable_by(request.user)
            .filter(name=request.POST.get("new_entity", ""))
            .first()
        )
        if entity is None:
            raise ProjectError("Choose where the new project goes.")
        return project_create(
            entity=entity, name=request.POST.get("new_name", "").strip(), creator=request.user
        )
    entity_name, _, project_name = target.partition("/")
    project = (
        project_selectors.projects_writable_by(request.user)
        .filter(entity__name=entity_name, name=project_name)
        .first()
    )
    if project is None:
        raise ProjectError("Choose a project you can write to.")
    return project


@login_required
@require_POST
def move_runs(request, entity, project):
    project = get_project_for_user(request, entity, project)
    try:
        with transaction.atomic():
            target = _target_project(request)
            moved = services.runs_move(
                actor=request.user, source=project, runs=_selection(request, project), target=target
            )
    except ProjectError as error:
        messages.error(request, str(error))
        return _back_to_table(project, request)
    messages.success(request, f"Moved {moved} run{'s' if moved != 1 else ''} to {target.path}.")
    return redirect(target)


@login_required
@require_POST
def delete_runs(request, entity, project):
    project = get_project_for_user(request, entity, project)
    try:
        runs = _selection(request, project)
    except ProjectError as error:
        messages.error(request, str(error))
        return _back_to_table(project, request)
    if request.POST.get("confirm") != "1":
        return render(
            request,
            "runs/delete_confirm.html",
            {
                "project": project,
                "count": runs.count(),
                "sample": list(runs.order_by("-created_at")[:10]),
                "post": request.POST,
                "retention_days": settings.TRASH_RETENTION_DAYS,
            },
        )
    try:
        deleted = services.runs_delete(actor=request.user, project=project, runs=runs)
    except ProjectError as error:
        messages.error(request, str(error))
        return _back_to_table(project, request)
    messages.success(
        request,
        f"Moved {deleted} run{'s' if deleted != 1 else ''} to the trash: restorable for "
        f"{settings.TRASH_RETENTION_DAYS} days.",
    )
    return _back_to_table(project, request)


def _can_edit(request, project, run):
    return services.may_edit_run(request.user, run, project.viewer_entity_permissions)


@csp_override(settings.CHART_PAGE_CSP)
def run_detail(request, entity, project, run_id):
    try:
        project, run = get_run_for_user(request, entity, project, run_id)
    except Http404:
        # A run in the trash: say so to those who may see the project, and offer to restore.
        return trash_views.trashed_run(request, entity, project, run_id)
    # ?rename=1 opens the name form in the title (a link that works without JavaScript).
    name_form = None
    if "rename" in request.GET and _can_edit(request, project, run):
        name_form = RunNameForm(initial={"name": run.display_name})
    if request.htmx and request.htmx.target == "run-title":
        return _run_title(request, project, run, name_form)
    return _run_page(request, project, run, name_form)


def _run_title(request, project, run, name_form=None, *, renamed=False):
    context = {
        "project": project,
        "run": run,
        "can_edit": _can_edit(request, project, run),
        "name_form": name_form,
        "renamed": renamed,
    }
    return render(request, "runs/detail.html#run_title", context)


def _run_page(request, project, run, name_form=None, *, status=200):
    history_keys = selectors.metric_keys([run])
    system_keys = selectors.metric_keys([run], MetricKey.Stream.EVENTS)
    artifacts = selectors.run_artifacts(run)
    command = _command(run.metadata)
    diff = selectors.run_text_file(run, "diff.patch")
    requirements = selectors.run_text_file(run, "requirements.txt")
    uploaded = {"diff.patch": diff, "requirements.txt": requirements}
    panels = media_panels(run)
    custom_charts = chart_specs(run)
    return render(
        request,
        "runs/detail.html",
        {
            "project": project,
            "run": run,
            "can_edit": _can_edit(request, project, run),
            "name_form": name_form,
            "form": RunEditForm(initial={"tags": ", ".join(run.tags), "notes": run.notes}),
            "config_rows": sorted((k, v) for k, v in run.config.items() if k != "_wandb")
            if isinstance(run.config, dict)
            else [],
            "summary_rows": summary_rows(run),
            "alerts": run.alerts.all(),
            "files": selectors.run_files(run),
            "unlisted_media_files": max(
                selectors.run_media_file_count(run) - selectors.MEDIA_FILES_LISTED, 0
            ),
            "media_panels": panels,
            "custom_charts": custom_charts,
            "plotly_bundle": plotly_bundle(panels, bool(custom_charts)),
            "artifacts": artifacts,
            "code": code.run_code(run),
            "chart_groups": selectors.chart_groups(history_keys),
            "system_groups": selectors.system_groups(system_keys),
            "lines": selectors.console_lines(run),
            "command": command,
            "diff": diff,
            "requirements": requirements,
            "reproduction": reproduction(
                run,
                base_url=_base_url(request),
                command=command,
                artifacts=artifacts,
                files={name for name, text in uploaded.items() if text is not None},
            ),
        },
        status=status,
    )


def _command(metadata) -> str:
    """The command line the run was started with, from the client's metadata."""
    if not isinstance(metadata, dict) or not metadata.get("program"):
        return ""
    args = metadata.get("args") or []
    program = metadata.get("codePath") or metadata["program"]
    return shlex.join(["python", str(program), *(str(arg) for arg in args)])


def _download(storage_name: str, name: str):
    response = stored_file_download(storage_name, name)
    if response is None:
        raise Http404("This file is not stored.")
    return response


def run_file(request, entity, project, run_id, name):
    """A run file's page: its text highlighted, its image, or a note that it is binary."""
    project, run = get_run_for_user(request, entity, project, run_id)
    file = get_object_or_404(run.files.exclude(uploaded_at=None), name=name)
    preview = file_preview(file.storage_name, file.name)
    if preview is None:
        raise Http404("This file is not stored.")
    context = {
        "project": project,
        "run": run,
        "file": file,
        "preview": preview,
        "download_url": reverse(
            "runs:file_download", args=[project.entity.name, project.name, run.run_id, file.name]
        ),
        "back": "files",
    }
    return render(request, "runs/file.html", context)


def run_file_download(request, entity, project, run_id, name):
    _, run = get_run_for_user(request, entity, project, run_id)
    file = get_object_or_404(run.files.exclude(uploaded_at=None), name=name)
    return _download(file.storage_name, file.name)


@login_required
@require_POST
def edit_run(request, entity, project, run_id):
    project, run = get_run_for_user(request, entity, project, run_id)
    if not _can_edit(request, project, run):
        raise PermissionDenied("Only the run's author and the entity's admins can edit it.")
    form = RunEditForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(run)
    try:
        services.run_update(run=run, actor=request.user, **form.cleaned_data)
    except ProjectError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Run saved.")
    return redirect(run)


@login_required
@require_POST
@csp_override(settings.CHART_PAGE_CSP)  # the run page, when a form without htmx comes back
def rename_run(request, entity, project, run_id):
    project, run = get_run_for_user(request, entity, project, run_id)
    if not _can_edit(request, project, run):
        raise PermissionDenied("Only the run's author and the entity's admins can rename it.")
    form = RunNameForm(request.POST)
    if form.is_valid():
        try:
            services.run_update(run=run, actor=request.user, name=form.cleaned_data["name"])
        except ProjectError as error:
            form.add_error("name", str(error))
    if not form.is_valid():
        if request.htmx:
            return _run_title(request, project, run, form)
        return _run_page(request, project, run, form, status=400)
    if request.htmx:
        return _run_title(request, project, run, renamed=True)
    messages.success(request, f"Renamed the run to {run.name}.")
    return redirect(run)


# Charts, console and exports

STREAMS = {"history": MetricKey.Stream.HISTORY, "system": MetricKey.Stream.EVENTS}
MAX_WORKSPACE_RUNS = 20
WORKSPACE_BUCKETS = 250


class BadChartRequest(ValueError):
    pass


def _int_param(request, name, default=None, *, low=None, high=None):
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        value = int(float(raw))
    except (ValueError, OverflowError):  # OverflowError: "inf"
        raise BadChartRequest(f"{name} must be a number.") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadChartRequest(f"{name} must be between {low} and {high}.")
    return value


def _chart_request(request, default_buckets=charts.DEFAULT_BUCKETS):
    key = request.GET.get("key", "")
    if not key:
        raise BadChartRequest("Name a metric with ?key=.")
    stream = STREAMS.get(request.GET.get("stream", "history"))
    if stream is None:
        raise BadChartRequest("stream must be history or system.")
    return {
        "key": key,
        "stream": stream,
        "lo": _int_param(request, "min", low=0),
        "hi": _int_param(request, "max", low=0),
        "buckets": _int_param(request, "buckets", default_buckets, low=1, high=charts.MAX_BUCKETS),
    }


def run_metric(request, entity, project, run_id):
    """One metric of one run for a chart: JSON, bucketed to at most ~2 x buckets points."""
    _, run = get_run_for_user(request, entity, project, run_id)
    try:
        params = _chart_request(request)
    except BadChartRequest as error:
        return JsonResponse({"error": str(error)}, status=400)
    data = charts.metric_series(run, **params).as_dict()
    if params["stream"] == MetricKey.Stream.EVENTS:
        metric = system_metric(params["key"])
        data |= {"title": metric.label, "unit": metric.unit}
    return JsonResponse({**data, "run_id": run.run_id, "state": run.state})


def run_metric_export(request, entity, project, run_id):
    """Every point of a metric, streamed as CSV (or JSON lines with ?format=jsonl)."""
    _, run = get_run_for_user(request, entity, project, run_id)
    try:
        params = _chart_request(request)
    except BadChartRequest as error:
        return JsonResponse({"error": str(error)}, status=400)
    rows = charts.export_rows(run, params["key"], params["stream"])
    as_json = request.GET.get("format") == "jsonl"

    def lines():
        if not as_json:
            yield "step,value\n"
        for step, value in rows:
            if as_json:
                yield json.dumps({"step": step, "value": value}) + "\n"
            else:
                yield f"{step},{'' if value is None else repr(value)}\n"

    filename = f"{run.run_id}-{slugify(params['key']) or 'metric'}.{'jsonl' if as_json else 'csv'}"
    response = StreamingHttpResponse(
        lines(), content_type="application/x-ndjson" if as_json else "text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def project_metric(request, entity, project):
    """One metric of several runs of a project, for a workspace panel."""
    project = get_project_for_user(request, entity, project)
    try:
        params = _chart_request(request, default_buckets=WORKSPACE_BUCKETS)
    except BadChartRequest as error:
        return JsonResponse({"error": str(error)}, status=400)
    run_ids = list(dict.fromkeys(request.GET.getlist("run")))[:MAX_WORKSPACE_RUNS]
    runs = {run.run_id: run for run in Run.objects.filter(project=project, run_id__in=run_ids)}
    key_id = charts.key_ids(params["stream"], [params["key"]]).get(params["key"])
    series = []
    for run_id in run_ids:
        run = runs.get(run_id)
        if run is None or key_id is None:
            continue
        data = charts.metric_series(run, key_id=key_id, **params).as_dict()
        series.append({**data, "run_id": run.run_id, "name": run.display_name, "color": run.color})
    return JsonResponse({"key": params["key"], "series": series})


def run_console(request, entity, project, run_id):
    _, run = get_run_for_user(request, entity, project, run_id)
    query = request.GET.get("q", "").strip()[:200]
    return render(
        request,
        "runs/_console.html",
        {"run": run, "lines": selectors.console_lines(run, query), "query": query},
    )


# Workspace: a person's chart panels on a project page

DEFAULT_PANELS = 6
WORKSPACE_RUNS_SHOWN = 10


def _workspace_context(request, project, runs):
    keys = selectors.metric_keys(runs)
    saved = selectors.workspace_of(request.user, project)
    panels = saved.panels if saved is not None else keys[:DEFAULT_PANELS]
    return {
        "project": project,
        "panels": panels,
        "addable": [key for key in keys if key not in panels],
        "can_edit_workspace": request.user.is_authenticated,
    }


def workspace(request, entity, project):
    """GET: the panels; POST (signed-in people): add, remove or move a panel."""
    project = get_project_for_user(request, entity, project)
    runs = list(
        Run.objects.filter(project=project, run_id__in=request.GET.getlist("run"))[
            :MAX_WORKSPACE_RUNS
        ]
    ) or list(selectors.runs_for_table(project)[:WORKSPACE_RUNS_SHOWN])
    if request.method == "POST":
        if not request.user.is_authenticated:
            raise PermissionDenied("Sign in to arrange your workspace.")
        context = _workspace_context(request, project, runs)
        try:
            services.workspace_change(
                user=request.user,
                project=project,
                panels=context["panels"],
                action=request.POST.get("action", ""),
                key=request.POST.get("key", ""),
            )
        except services.RunsError as error:
            return HttpResponse(str(error), status=400)
        if not request.htmx:
            return redirect(project)
    return render(
        request,
        "runs/_workspace.html",
        _workspace_context(request, project, runs),
    )
