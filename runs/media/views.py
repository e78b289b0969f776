"""The media endpoints: a run page panel at another step (for its step slider), image
thumbnails, and the workspace's media rows of several runs."""

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render

from projects.access import get_project_for_user
from runs import selectors
from runs.access import get_run_for_user
from runs.models import Run

from .panels import media_panel
from .thumbnails import thumbnail
from .workspace import workspace_media

# As the workspace's charts: at most this many runs, by default the table's first ones.
MAX_WORKSPACE_RUNS = 20
WORKSPACE_RUNS_SHOWN = 10


def run_media_step(request, entity, project, run_id):
    """GET ?key=<media key>&step=<step>: the body of that key's panel at that step."""
    project, run = get_run_for_user(request, entity, project, run_id)
    key = request.GET.get("key", "")
    try:
        step = int(request.GET.get("step", ""))
    except ValueError:
        return HttpResponseBadRequest("The step must be a whole number.")
    panel = media_panel(run, key, step)
    if panel is None:
        raise Http404("This run logged no media under that key at that step.")
    context = {"project": project, "run": run, "panel": panel}
    return render(request, panel.template, context)


def run_thumbnail(request, entity, project, run_id, name):
    """A logged image at most 512 px wide, made on the first request; 404 for anything that is
    not an image."""
    _, run = get_run_for_user(request, entity, project, run_id)
    file = get_object_or_404(run.files.exclude(uploaded_at=None), name=name)
    data = thumbnail(file)
    if data is None:
        raise Http404("This file is not an image.")
    response = HttpResponse(data, content_type="image/webp")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _workspace_runs(project, run_ids: list[str]) -> list[Run]:
    """The named runs of the project in the order named, else the runs table's first ones."""
    run_ids = list(dict.fromkeys(run_ids))[:MAX_WORKSPACE_RUNS]
    if not run_ids:
        runs = list(selectors.runs_for_table(project)[:WORKSPACE_RUNS_SHOWN])
    else:
        found = {run.run_id: run for run in Run.objects.filter(project=project, run_id__in=run_ids)}
        runs = [found[run_id] for run_id in run_ids if run_id in found]
    for run in runs:
        run.project = project  # its links need the project's entity, already loaded
    return runs


def workspace_media_rows(request, entity, project):
    """GET ?run=<id>&run=...: a row per media key the runs logged, each run's media side by
    side; with &key=<key>&step=<step>, that row's runs at that step (for the row's slider)."""
    project = get_project_for_user(request, entity, project)
    key = request.GET.get("key")
    step = request.GET.get("step")
    if step is not None:
        try:
            step = int(step)
        except ValueError:
            return HttpResponseBadRequest("The step must be a whole number.")
    runs = _workspace_runs(project, request.GET.getlist("run"))
    media = workspace_media(runs, key, step)
    context = {"project": project, "media": media, "runs": runs}
    if key is None:
        return render(request, "runs/media/_workspace.html", context)
    if not media.rows:
        raise Http404("None of these runs logged media under that key.")
    context["row"] = media.rows[0]
    return render(request, "runs/media/_workspace.html#cells", context)
