"""The run page's media endpoints: one panel at another step (for the step slider), image
thumbnails, and the figures of preset charts."""

from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, render

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
