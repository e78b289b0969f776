"""The run page's media endpoints: one panel at another step (for the step slider), and image
thumbnails."""

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render

from runs.access import get_run_for_user

from .panels import media_panel
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
