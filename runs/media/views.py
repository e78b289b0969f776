"""The media endpoints: a run page panel at another step (for its step slider), image
thumbnails, the figures of preset charts, logged HTML for the panel's sandboxed frame, and the
workspace's media rows of several runs."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.csp import CSP
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from projects.access import get_project_for_user
from runs import selectors
from runs.access import get_run_for_user
from runs.models import Run, RunFile

from .panels import media_panel
from .presets import chart_data, chart_spec
from .thumbnails import read_thumbnail_token, thumbnail
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


@require_GET
def signed_thumbnail(request, token):
    """A logged image's thumbnail through a signed, expiring link (runs.media.thumbnails): the
    link is the credential, so it works without a session."""
    pk = read_thumbnail_token(token)
    if pk is None:
        raise Http404("This link is not valid or has expired.")
    file = get_object_or_404(RunFile.objects.exclude(uploaded_at=None), pk=pk)
    data = thumbnail(file)
    if data is None:
        raise Http404("This file is not an image.")
    response = HttpResponse(data, content_type="image/webp")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def run_custom_chart(request, entity, project, run_id):
    """GET ?key=<chart key>: the plotly figure of a chart logged with a `wandb.plot` preset, as
    JSON ({"title", "figure", "note"}); the figure is null while its table is not uploaded."""
    _, run = get_run_for_user(request, entity, project, run_id)
    spec = chart_spec(run, request.GET.get("key", ""))
    if spec is None:
        raise Http404("This run logged no chart under that key.")
    response = JsonResponse(chart_data(run, spec))
    response["Cache-Control"] = "private, no-cache"
    return response


# Logged HTML is anyone's markup: it runs in a sandbox (a unique origin: its scripts run, so an
# interactive figure works, but they cannot read the site's cookies or pages; no forms or popups)
# even when opened directly, and it may load and send nothing anywhere, so it can neither act as
# the site nor tell another site who looked at it. Only this site's run page may frame it.
LOGGED_HTML_CSP = {
    "sandbox": ["allow-scripts"],
    "default-src": [CSP.NONE],
    "script-src": [CSP.UNSAFE_INLINE],
    "style-src": [CSP.UNSAFE_INLINE],
    "img-src": ["data:"],
    "font-src": ["data:"],
    "frame-ancestors": [CSP.SELF],
}


@xframe_options_sameorigin
@csp_override(LOGGED_HTML_CSP)
def run_media_html(request, entity, project, run_id, name):
    """A logged HTML file (`wandb.Html`), served as a sandboxed page for the panel's frame."""
    _, run = get_run_for_user(request, entity, project, run_id)
    file = get_object_or_404(run.files.exclude(uploaded_at=None), name=name)
    if not name.lower().endswith(".html"):
        raise Http404("This file is not logged HTML.")
    if not file.storage_name or not default_storage.exists(file.storage_name):
        raise Http404("This file is not stored.")
    response = FileResponse(
        default_storage.open(file.storage_name), content_type="text/html; charset=utf-8"
    )
    response["X-Content-Type-Options"] = "nosniff"
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
