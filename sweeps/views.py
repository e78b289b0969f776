"""A project's sweeps in the browser: the list, a sweep's page (state, controls, the agent
command, config, best run, a parallel coordinates figure, its runs and agents) and the state
controls (pause, resume, stop, cancel), which go through the same service as the API."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from projects.access import get_project_for_user
from runs import panel_figures
from runs.compare import display
from runs.panels import Panel, panel_rows
from runs.selectors import json_column_value
from teams.access import may_change_own

from . import page_selectors, selectors
from .errors import SweepError
from .models import Sweep
from .services import release_lost_agents, sweep_points_remain, sweep_update

RUNS_PER_PAGE = 50
SWEEPS_PER_PAGE = 50
# The page's buttons and the state each asks for (design §3).
ACTIONS = {
    "pause": Sweep.State.PAUSED,
    "resume": Sweep.State.RUNNING,
    "stop": Sweep.State.FINISHED,
    "cancel": Sweep.State.CANCELED,
}


def _sweep(project, name) -> Sweep:
    sweep = selectors.sweep_by_name(project, name)
    if sweep is None:
        raise Http404("No such sweep.")
    return sweep


def _may_control(user, project, sweep) -> bool:
    """The sweep's author and the entity's admins change its state (as sweep_update checks)."""
    return user.is_authenticated and may_change_own(
        project.viewer_entity_permissions, sweep.author_id, user
    )


def sweep_list(request, entity, project):
    project = get_project_for_user(request, entity, project)
    page = Paginator(page_selectors.sweeps_with_counts(project), SWEEPS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    sweeps = list(page.object_list)
    best = page_selectors.best_values(sweeps)
    for sweep in sweeps:
        sweep.best_value = best.get(sweep.pk)
    context = {"project": project, "sweeps": sweeps, "page": page}
    return render(request, "sweeps/list.html", context)


class _SweepRuns:
    """The runs filter panel_rows takes: the sweep's runs."""

    def __init__(self, sweep):
        self.sweep = sweep

    def apply(self, runs):
        return runs.filter(sweep_link__sweep=self.sweep)


def _figure(project, sweep, parameters):
    """The parallel coordinates of the parameters to the metric, or None without a metric or
    parameters."""
    if not sweep.metric_name or not parameters:
        return None
    panel = Panel(
        "parallel",
        axes=tuple(f"config.{name}" for name in parameters),
        metric=f"summary.{sweep.metric_name}",
    )
    read = panel_rows(project, _SweepRuns(sweep), panel.keys, with_config=False)
    figure = panel_figures.parallel(
        panel,
        read.rows,
        lambda run_id: reverse("runs:detail", args=[project.entity.name, project.name, run_id]),
    )
    if read.capped:
        figure.notes.append(f"More than {read.cap} runs: the newest {read.cap} are drawn.")
    return figure


def _shown(value):
    return None if value is None else display(value)


@csp_override(settings.CHART_PAGE_CSP)  # Plotly adds its stylesheet at run time
def sweep_detail(request, entity, project, name):
    project = get_project_for_user(request, entity, project)
    sweep = _sweep(project, name)
    # The page shows agents as they are: silent ones are released (as the periodic job does).
    release_lost_agents(sweep)
    parameters = page_selectors.parameter_names(sweep)
    page = Paginator(
        selectors.sweep_runs(sweep).select_related("project__entity"), RUNS_PER_PAGE
    ).get_page(request.GET.get("page"))
    metric_key = f"summary.{sweep.metric_name}" if sweep.metric_name else None
    rows = [
        {
            "run": run,
            "params": [_shown(json_column_value(run, f"config.{p}")) for p in parameters],
            "metric": _shown(json_column_value(run, metric_key)) if metric_key else None,
        }
        for run in page.object_list
    ]
    best = selectors.best_run(sweep)
    runs_url = reverse("project", args=[project.entity.name, project.name])
    context = {
        "project": project,
        "sweep": sweep,
        "may_control": _may_control(request.user, project, sweep),
        # A paused sweep resumes; a finished or canceled one only while points remain.
        "may_resume": sweep.state == Sweep.State.PAUSED or sweep_points_remain(sweep),
        "agent_command": f"wandb agent {project.entity.name}/{project.name}/{sweep.name}",
        "parameters": parameters,
        "page": page,
        "rows": rows,
        "best": best,
        "best_value": _shown(json_column_value(best, metric_key)) if best else None,
        "figure": _figure(project, sweep, parameters),
        "agents": list(page_selectors.sweep_agents(sweep)),
        "runs_table_url": f"{runs_url}?{urlencode({'q': f'sweep = "{sweep.name}"'})}",
    }
    return render(request, "sweeps/detail.html", context)


@login_required
@require_POST
def sweep_state(request, entity, project, name):
    project = get_project_for_user(request, entity, project)
    sweep = _sweep(project, name)
    if not _may_control(request.user, project, sweep):
        raise PermissionDenied("Only the sweep's author or a team admin may change its state.")
    state = ACTIONS.get(request.POST.get("action", ""))
    if state is None:
        messages.error(request, "Choose pause, resume, stop or cancel.")
        return redirect("sweeps:detail", project.entity.name, project.name, sweep.name)
    try:
        sweep = sweep_update(
            actor=request.user,
            sweep=sweep,
            rights=project.viewer_entity_permissions,
            state=state,
        )
    except SweepError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from None
        messages.error(request, error.message)
    else:
        messages.success(request, f"The sweep is {sweep.get_state_display().lower()}.")
    return redirect("sweeps:detail", project.entity.name, project.name, sweep.name)
