"""The run comparer's page: `/<entity>/<project>/compare/?run=a&run=b`, linkable, for anyone who
may see the project. Its own module so runs/views.py stays under ~600 lines."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods

from projects.access import get_project_for_user

from . import compare, selectors, services
from .query import QueryError
from .selectors import RunFilter


@require_http_methods(["GET", "POST"])
def compare_runs(request, entity, project):
    """GET: the runs named by `run` side by side (`diff=1`: only the rows that differ).
    POST: the runs table's bulk form, answered with a redirect to the linkable GET."""
    project = get_project_for_user(request, entity, project)
    if request.method == "POST":
        return _from_selection(request, project)
    only_differences = request.GET.get("diff") == "1"
    services.project_check_quiet_runs(project=project)
    try:
        run_ids = compare.run_ids_from(request.GET.getlist("run"))
        runs = compare.in_order(
            selectors.runs_for_table(project).filter(run_id__in=run_ids), run_ids
        )
    except compare.CompareError as error:
        context = {"project": project, "error": str(error)}
        return render(request, "runs/compare.html", context, status=400)
    for run in runs:
        run.project = project  # its links need the entity: no query per run
    context = {
        "project": project,
        "runs": runs,
        "columns": list(zip(runs, _remove_links(request, runs), strict=True)),
        "sections": compare.comparison(runs, only_differences=only_differences),
        "only_differences": only_differences,
    }
    if request.htmx and request.htmx.target == "compare-region":
        return render(request, "runs/compare.html#compare_region", context)
    return render(request, "runs/compare.html", context)


def _remove_links(request, runs) -> list[str | None]:
    """Per column, the query that leaves that run out; None when two runs remain."""
    if len(runs) <= compare.MIN_RUNS:
        return [None] * len(runs)
    links = []
    for run in runs:
        params = request.GET.copy()
        params.setlist("run", [other.run_id for other in runs if other is not run])
        links.append(params.urlencode())
    return links


def _from_selection(request, project):
    """The ticked runs, or every run matching the table's filter, as a comparer link; a message
    on the table when there are too few or too many."""
    if request.POST.get("select_all") == "1":
        try:
            runs = selectors.selected_runs(
                project, run_ids=None, run_filter=RunFilter.from_params(request.POST)
            )
        except QueryError as error:
            messages.error(request, f"The filter's query has a mistake: {error}.")
            return _back_to_table(request, project)
        # One more than allowed is enough to know there are too many.
        run_ids = list(runs.values_list("run_id", flat=True)[: compare.MAX_RUNS + 1])
    else:
        run_ids = request.POST.getlist("run")
    try:
        run_ids = compare.run_ids_from(run_ids)
    except compare.CompareError as error:
        messages.error(request, str(error))
        return _back_to_table(request, project)
    url = reverse("runs:compare", args=[project.entity.name, project.name])
    return redirect(f"{url}?{urlencode({'run': run_ids}, doseq=True)}")


def _back_to_table(request, project):
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = project.get_absolute_url()
    return redirect(back)
