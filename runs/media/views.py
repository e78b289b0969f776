"""The run page's media endpoints: one panel at another step (for the step slider), image
thumbnails, the figures of preset charts, and logged HTML for the panel's sandboxed frame."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.csp import CSP
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override

from runs.access import get_run_for_user

from .panels import media_panel
from .presets import chart_data, chart_spec
from .thumbnails import thumbnail


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


# Logged HTML is anyone's markup: it runs in a sandbox (a unique origin, no scripts, forms or
# popups) even when opened directly, and may load nothing from anywhere, so it can neither act
# as the site nor tell another site who looked at it. Only this site's run page may frame it.
LOGGED_HTML_CSP = {
    "sandbox": True,
    "default-src": [CSP.NONE],
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
