"""Sweep reads."""

import math

from django.db.models.fields.json import KeyTransform

from runs.models import Run

from .models import Sweep


def sweep_by_name(project, name: str) -> Sweep | None:
    """The sweep of `project` with this name (the client's sweep id), or None."""
    return Sweep.objects.filter(project=project, name=name).select_related("author").first()


def project_sweeps(project):
    """The project's sweeps, newest first."""
    return Sweep.objects.filter(project=project).select_related("author")


def sweep_runs(sweep: Sweep):
    """The runs linked to the sweep (one query), oldest first."""
    return Run.objects.filter(sweep_link__sweep=sweep).order_by("created_at", "id")


def best_run(sweep: Sweep) -> Run | None:
    """The linked run with the best summary value of the sweep's metric (its goal: minimize
    or maximize), or None. Two queries: the metric's values, then the winner."""
    if not sweep.metric_name:
        return None
    values = (
        Run.objects.filter(sweep_link__sweep=sweep)
        .annotate(metric=KeyTransform(sweep.metric_name, "summary"))
        .values_list("pk", "metric")
    )
    numbers = [
        (value, pk)
        for pk, value in values
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ]
    if not numbers:
        return None
    pick = max if sweep.metric_goal == "maximize" else min
    return Run.objects.select_related("project__entity").get(pk=pick(numbers)[1])
