from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from projects import selectors as project_selectors
from projects.access import ProjectNeed, get_project_for_user
from projects.services import ProjectError, project_create
from teams import selectors as team_selectors
from teams.access import Need

from . import selectors, services
from .forms import RunEditForm
from .models import Artifact, ArtifactFile, Run
from .selectors import RunFilter, Sort

MAX_EXTRA_COLUMNS = 12


def _extra_columns(params):
    """The summary/config columns the user added (`col=summary.loss`), in order, once each."""
    columns = []
    for column in params.getlist("col"):
        if selectors.json_column_key(column) and column not in columns:
            columns.append(column)
    return columns[:MAX_EXTRA_COLUMNS]


def project_page(request, entity, project):
    project = get_project_for_user(request, entity, project)
    run_filter = RunFilter.from_params(request.GET)
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
        "sort": sort,
        "sort_links": {key: sort.toggled(key) for key in selectors.BASE_SORTS},
        "states": Run.State.choices,
        "can_write": ProjectNeed.WRITE in project.viewer_rights,
        "is_admin": Need.ADMIN in project.viewer_entity_permissions,
    }
    if not request.htmx:
        context["alerts"] = selectors.recent_alerts(project)
        context["artifact_collections"] = selectors.artifact_collections(project)
    if request.user.is_authenticated:
        context["targets"] = project_selectors.projects_writable_by(request.user).exclude(
            pk=project.pk
        )
        context["target_entities"] = team_selectors.entities_writable_by(request.user)
    if request.htmx and request.htmx.target == "runs-region":
        return render(request, "runs/project.html#runs_region", context)
    return render(request, "runs/project.html", context)


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
    source, key = selectors.json_column_key(column)
    value = getattr(run, source).get(key) if isinstance(getattr(run, source), dict) else None
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else value


def _selection(request, project):
    """The runs a bulk form names: the ticked ones, or all matching the filter it carries."""
    if request.POST.get("select_all") == "1":
        return selectors.selected_runs(
            project, run_ids=None, run_filter=RunFilter.from_params(request.POST)
        )
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
    runs = _selection(request, project)
    if request.POST.get("confirm") != "1":
        return render(
            request,
            "runs/delete_confirm.html",
            {
                "project": project,
                "count": runs.count(),
                "sample": list(runs.order_by("-created_at")[:10]),
                "post": request.POST,
            },
        )
    try:
        deleted = services.runs_delete(actor=request.user, project=project, runs=runs)
    except ProjectError as error:
        messages.error(request, str(error))
        return _back_to_table(project, request)
    messages.success(request, f"Deleted {deleted} run{'s' if deleted != 1 else ''}.")
    return _back_to_table(project, request)


def _run(request, entity, project, run_id):
    project = get_project_for_user(request, entity, project)
    run = get_object_or_404(
        Run.objects.select_related("author", "project__entity"), project=project, run_id=run_id
    )
    run.project = project  # keep the viewer's rights on it
    return project, run


def _can_edit(request, project, run):
    permissions = project.viewer_entity_permissions
    return Need.ADMIN in permissions or (
        Need.WRITE in permissions and run.author_id == request.user.pk
    )


def run_detail(request, entity, project, run_id):
    project, run = _run(request, entity, project, run_id)
    summary = run.summary if isinstance(run.summary, dict) else {}
    return render(
        request,
        "runs/detail.html",
        {
            "project": project,
            "run": run,
            "can_edit": _can_edit(request, project, run),
            "form": RunEditForm(initial={"tags": ", ".join(run.tags), "notes": run.notes}),
            "config_rows": sorted((k, v) for k, v in run.config.items() if k != "_wandb")
            if isinstance(run.config, dict)
            else [],
            "summary_rows": sorted((k, v) for k, v in summary.items() if not k.startswith("_")),
            "alerts": run.alerts.all(),
            "files": selectors.run_files(run),
            "artifacts": selectors.run_artifacts(run),
        },
    )


def _download(storage_name: str, name: str):
    if not storage_name or not default_storage.exists(storage_name):
        raise Http404("This file is not stored.")
    return FileResponse(
        default_storage.open(storage_name),
        as_attachment=True,
        filename=name.rsplit("/", 1)[-1],
        content_type="application/octet-stream",
    )


def run_file(request, entity, project, run_id, name):
    _, run = _run(request, entity, project, run_id)
    file = get_object_or_404(run.files.exclude(uploaded_at=None), name=name)
    return _download(file.storage_name, file.name)


def artifact_file(request, entity, project, collection, version, name):
    project = get_project_for_user(request, entity, project)
    file = get_object_or_404(
        ArtifactFile.objects.exclude(size=None),
        artifact__collection__project=project,
        artifact__collection__name=collection,
        artifact__version_index=version,
        artifact__state=Artifact.State.COMMITTED,
        name=name,
    )
    return _download(file.storage_name, file.name)


@login_required
@require_POST
def edit_run(request, entity, project, run_id):
    project, run = _run(request, entity, project, run_id)
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
