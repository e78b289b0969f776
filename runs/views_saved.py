"""Saved views of the runs table and the leaderboard page."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from projects.access import get_project_for_user
from teams.access import viewer_refusal
from teamsite.lib.spreadsheet import spreadsheet_safe

from . import selectors
from .forms import SavedViewForm
from .leaderboard import GOALS, GROUP_FIELDS, Board, LeaderboardError, leaderboard
from .models import SavedView
from .saved_views import (
    SavedViewError,
    can_save_views,
    can_share_views,
    get_view_for_user,
    saved_view_create,
    saved_view_delete,
    saved_view_rename,
    saved_view_update,
    views_menu,
)


def _member_project(request, entity, project):
    project = get_project_for_user(request, entity, project)
    if not can_save_views(project):
        raise PermissionDenied("Only members of the team save views.")
    return project


@login_required
@require_POST
def create_view(request, entity, project):
    project = _member_project(request, entity, project)
    form = SavedViewForm(request.POST)
    if form.is_valid() and form.cleaned_data["shared"] and not can_share_views(project):
        form.add_error("shared", viewer_refusal(project.entity, "share views with the team"))
    if form.is_valid():
        try:
            view = saved_view_create(project=project, owner=request.user, **form.cleaned_data)
        except SavedViewError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, f"Saved the view “{view.name}”.")
            return redirect(view.page_url())
    return render(
        request, "runs/saved_view_form.html", {"project": project, "form": form}, status=400
    )


def open_view(request, entity, project, key):
    """A view's own link: the page with its parameters, as they are when it is followed."""
    project = get_project_for_user(request, entity, project)
    return redirect(get_view_for_user(request, project, key).page_url())


@login_required
@require_POST
def rename_view(request, entity, project, key):
    project = get_project_for_user(request, entity, project)
    view = get_view_for_user(request, project, key, edit=True)
    try:
        saved_view_rename(view=view, actor=request.user, name=request.POST.get("name", ""))
    except SavedViewError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Renamed the view to “{view.name}”.")
    return redirect(view.page_url())


@login_required
@require_POST
def update_view(request, entity, project, key):
    project = get_project_for_user(request, entity, project)
    view = get_view_for_user(request, project, key, edit=True)
    try:
        saved_view_update(view=view, actor=request.user, state=request.POST.get("state", ""))
    except SavedViewError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Updated the view “{view.name}” to the state of this page.")
    return redirect(view.page_url())


@login_required
@require_POST
def delete_view(request, entity, project, key):
    project = get_project_for_user(request, entity, project)
    view = get_view_for_user(request, project, key, edit=True)
    saved_view_delete(view=view, actor=request.user)
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect(project.get_absolute_url())


def leaderboard_page(request, entity, project):
    project = get_project_for_user(request, entity, project)
    context = {
        "project": project,
        "keys": selectors.column_keys(project),
        "group_fields": GROUP_FIELDS,
        "goals": GOALS,
        "params": request.GET,
        "saved_views": views_menu(project, request.user),
        "can_save": can_save_views(project),
        "state": _state(request),
        "kind": SavedView.Kind.LEADERBOARD,
    }
    if not request.GET.get("metric"):
        return render(request, "runs/leaderboard.html", context)
    try:
        board = Board.from_params(request.GET)
    except LeaderboardError as error:
        return render(request, "runs/leaderboard.html", {**context, "error": error}, status=400)
    context.update(board=board, rows=leaderboard(project, board))
    return render(request, "runs/leaderboard.html", context)


def leaderboard_csv(request, entity, project):
    project = get_project_for_user(request, entity, project)
    try:
        board = Board.from_params(request.GET)
    except LeaderboardError as error:
        return HttpResponse(f"{error}\n", status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.name}-leaderboard.csv"'
    writer = csv.writer(response)
    header = ["run_id", "name", board.metric]
    if board.group:
        header = [board.group, *header, "runs_in_group"]
    writer.writerow(header)
    for row in leaderboard(project, board):
        cells = [row.run.run_id, row.run.name, "" if row.value is None else row.value]
        if board.group:
            group = "" if row.group is None else row.group
            cells = [group, *cells, row.runs_in_group]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return response


def _state(request) -> str:
    return request.GET.urlencode()
