"""The workspace panels on the project page (runs.panels): their context, and the Add panel
form's target, which turns the form's fields into one `panel` parameter of the page."""

from dataclasses import dataclass
from urllib.parse import quote

from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse

from projects.access import get_project_for_user

from . import panel_figures
from .panels import (
    KINDS,
    MAX_PANELS,
    MAX_SPEC,
    RUN_FIELDS,
    Panel,
    PanelSpecError,
    format_key,
    panel_rows,
    parse_params,
    parse_spec,
)

RUN_PLACEHOLDER = "__run__"


@dataclass
class ShownPanel:
    index: int
    text: str  # the parameter as written
    panel: Panel | None
    error: str
    remove_query: str
    figure: panel_figures.Figure | None = None

    @property
    def figure_id(self) -> str:
        return f"panel-figure-{self.index}"

    @property
    def title(self) -> str:
        return self.panel.title if self.panel else self.text[:120]


def _page_state(params) -> QueryDict:
    """The page's parameters, without the table's cursor (a new panel starts the table over)."""
    state = params.copy()
    state.pop("cursor", None)
    return state


def _without_panel(params, index: int) -> str:
    state = _page_state(params)
    panels = state.getlist("panel")
    del panels[index]
    state.setlist("panel", panels)
    return state.urlencode()


def _run_url_maker(project):
    prefix, suffix = reverse(
        "runs:detail", args=[project.entity.name, project.name, RUN_PLACEHOLDER]
    ).rsplit(RUN_PLACEHOLDER, 1)
    return lambda run_id: f"{prefix}{quote(run_id, safe='')}{suffix}"


def key_options(keys: dict[str, list[str]]) -> dict[str, list[tuple[str, str]]]:
    """The Add panel form's keys: (as a panel writes it, as the table names it)."""
    return {
        column: [(format_key(f"{column}.{name}"), f"{column}.{name}") for name in names]
        for column, names in keys.items()
    }


def panels_context(request, project, run_filter, keys: dict[str, list[str]]) -> dict:
    """The panels the page's `panel` parameters describe, drawn from one read of the runs the
    (checked) filter selects."""
    params = request.GET
    shown = [
        ShownPanel(index, text, panel, error, _without_panel(params, index))
        for index, (text, panel, error) in enumerate(parse_params(params))
    ]
    valid = [item.panel for item in shown if item.panel]
    cap = None
    if valid:
        fields = [key for panel in valid for key in panel.keys]
        with_config = any(panel.kind == "correlation" for panel in valid)
        read = panel_rows(project, run_filter, fields, with_config=with_config)
        cap = read.cap if read.capped else None
        run_url = _run_url_maker(project)
        for item in shown:
            if item.panel:
                item.figure = panel_figures.build(item.panel, read.rows, run_url)
    return {
        "query_panels": shown,
        "panel_cap": cap,
        "panel_kinds": KINDS,
        "panel_keys": key_options(keys),
        "panel_run_fields": RUN_FIELDS,
        "panel_page_state": _page_state(params).urlencode(),
        "can_add_panel": len(shown) < MAX_PANELS,
    }


def compose_spec(params) -> str:
    """The `panel` parameter of the Add panel form's fields (already written as a panel
    writes keys), tidied when it parses; as given otherwise, for the panel to say what is wrong."""
    kind = params.get("kind", "").strip()
    x, y, color = (params.get(name, "").strip() for name in ("x", "y", "color"))
    metric, group = params.get("metric", "").strip(), params.get("by", "").strip()
    if kind == "scatter":
        parts = [x, y, *([color] if color else [])]
    elif kind == "parallel":
        axes = [axis.strip() for axis in params.getlist("axes") if axis.strip()]
        parts = [",".join(axes), metric]
    elif kind == "bar":
        parts = [metric, group]
    else:
        parts = [metric]
    text = ":".join([kind, *parts])[:MAX_SPEC]
    try:
        return parse_spec(text).spec()
    except PanelSpecError:
        return text


def add_panel(request, entity, project):
    """GET from the Add panel form: back to the project page with one more panel."""
    project = get_project_for_user(request, entity, project)
    state = _page_state(QueryDict(request.GET.get("page", "")))
    if len(state.getlist("panel")) < MAX_PANELS:
        state.appendlist("panel", compose_spec(request.GET))
    return redirect(f"{project.get_absolute_url()}?{state.urlencode()}#query-panels")
