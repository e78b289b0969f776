"""The project's run trash: what was deleted, by whom, until when; restore, delete for good."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from projects.access import get_project_for_user
from teams.access import Need

from . import trash
from .services import RunsError

TRASH_PAGE_SIZE = 50


def trash_page(request, entity, project):
    project = get_project_for_user(request, entity, project)
    permissions = project.viewer_entity_permissions
    runs = trash.in_trash(project).select_related("author", "trashed_by")
    paginator = Paginator(runs, TRASH_PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    user = request.user
    rows = [
        (
            run,
            trash.purge_date(run),
            user.is_authenticated and trash.may_restore(user, run, permissions),
        )
        for run in page_obj
    ]
    return render(
        request,
        "runs/trash.html",
        {
            "project": project,
            "page_obj": page_obj,
            "rows": rows,
            "can_restore_any": any(restorable for _, _, restorable in rows),
            "is_admin": Need.ADMIN in permissions,
            "retention_days": settings.TRASH_RETENTION_DAYS,
        },
    )


def _project(request, entity, project, need: Need):
    """The project, for someone with the role the action needs on its entity (else 403)."""
    project = get_project_for_user(request, entity, project)
    if need not in project.viewer_entity_permissions:
        raise PermissionDenied(f"You need the {need.removesuffix('_entity')} role in {entity}.")
    return project


def _chosen(request, project):
    return trash.in_trash(project).filter(run_id__in=request.POST.getlist("run"))


def _back(project):
    return redirect("runs:trash", project.entity.name, project.name)


@login_required
@require_POST
def restore_runs(request, entity, project):
    # Members restore their own runs (the service checks each), admins any.
    project = _project(request, entity, project, Need.WRITE)
    try:
        restored = trash.runs_restore(
            actor=request.user, project=project, runs=_chosen(request, project)
        )
    except RunsError as error:
        messages.error(request, str(error))
        return _back(project)
    messages.success(request, f"Restored {restored} run{'s' if restored != 1 else ''}.")
    if request.POST.get("from_run_page") == "1" and len(request.POST.getlist("run")) == 1:
        # Restored from its own page: back to that page, now the run's again.
        return redirect("runs:detail", project.entity.name, project.name, request.POST["run"])
    return _back(project)


@login_required
@require_POST
def delete_forever(request, entity, project):
    project = _project(request, entity, project, Need.ADMIN)
    runs = _chosen(request, project)
    if request.POST.get("confirm") != "1":
        return render(
            request,
            "runs/trash_delete_confirm.html",
            # A page of the trash at most: every selected run is named and carried on.
            {"project": project, "runs": list(runs)},
        )
    try:
        purged = trash.runs_delete_forever(actor=request.user, project=project, runs=runs)
    except RunsError as error:
        messages.error(request, str(error))
        return _back(project)
    messages.success(request, f"Deleted {purged} run{'s' if purged != 1 else ''} for good.")
    return _back(project)


def trashed_run(request, entity, project, run_id):
    """The page of a run in the trash: a 404 that says where it went, for those who may see
    the project (anyone else gets the plain 404)."""
    project = get_project_for_user(request, entity, project)
    run = (
        trash.in_trash(project).select_related("author", "trashed_by").filter(run_id=run_id).first()
    )
    if run is None:
        raise Http404("No such run.")
    restorable = request.user.is_authenticated and trash.may_restore(
        request.user, run, project.viewer_entity_permissions
    )
    context = {
        "project": project,
        "run": run,
        "purge_date": trash.purge_date(run),
        "restorable": restorable,
    }
    return render(request, "runs/trashed_run.html", context, status=404)
