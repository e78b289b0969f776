"""A logged table's endpoints: one page of it (sorted, filtered) and the whole of it as CSV.
(The thumbnails of the images in the cells of tables the client keeps in a run_table artifact
are served by artifacts.views.)"""

import re
from urllib.parse import urlencode

from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse

from runs.access import get_run_for_user

from .kinds import TABLE
from .panels import media_panel
from .tables import (
    TableError,
    TableQueryError,
    attach_cell_files,
    load_table,
    parse_table_query,
    table_csv_lines,
    table_page,
    table_source,
)


class _BadRequest(Exception):
    pass


def _table_panel(request, run):
    """The table panel ?key=&step= names: 400 for a step that is no number, 404 for no table."""
    key = request.GET.get("key", "")
    try:
        step = int(request.GET.get("step", ""))
    except ValueError:
        raise _BadRequest("The step must be a whole number.") from None
    # PostgreSQL refuses NUL in text: no key holds one, so there is nothing to look up.
    panel = media_panel(run, key, step) if "\x00" not in key else None
    if panel is None or panel.kind != TABLE:
        raise Http404("This run logged no table under that key at that step.")
    return panel


def run_table(request, entity, project, run_id):
    """GET ?key=&step=&page=&sort=&desc=&q=&col=: one page of a logged table; htmx gets the
    panel body, a plain request the page around it."""
    project, run = get_run_for_user(request, entity, project, run_id)
    try:
        panel = _table_panel(request, run)
    except _BadRequest as error:
        return HttpResponseBadRequest(str(error))
    source = table_source(run, panel)
    context = {"project": project, "run": run, "panel": panel, "source": source}
    try:
        if source.file is None:
            raise TableError("This table has not been uploaded yet.")
        table = load_table(source.file)
    except TableError as error:
        context["error"] = str(error)
    else:
        try:
            query = parse_table_query(request.GET, table.columns)
        except TableQueryError as error:
            return HttpResponseBadRequest(str(error))
        base = reverse("runs:table", args=[project.entity.name, project.name, run.run_id])
        fixed = {"key": panel.key, "step": panel.step}
        context["table"] = table_page(table, query, lambda p: f"{base}?{urlencode({**fixed, **p})}")
        attach_cell_files(run, source, context["table"])
    template = "runs/media/table.html"
    return render(request, f"{template}#table_body" if request.htmx else template, context)


def _csv_name(run_id: str, key: str, step: int) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{run_id}-{key}-{step}").strip("._") or "table"
    return f"{stem}.csv"


def run_table_csv(request, entity, project, run_id):
    """GET ?key=&step=: the whole logged table as CSV, row by row."""
    _, run = get_run_for_user(request, entity, project, run_id)
    try:
        panel = _table_panel(request, run)
    except _BadRequest as error:
        return HttpResponseBadRequest(str(error))
    source = table_source(run, panel)
    if source.file is None:
        raise Http404("This table has not been uploaded yet.")
    try:
        table = load_table(source.file)
    except TableError as error:
        raise Http404(str(error)) from error
    response = StreamingHttpResponse(table_csv_lines(table), content_type="text/csv; charset=utf-8")
    name = _csv_name(run.run_id, panel.key, panel.step)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
