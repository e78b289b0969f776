"""Sweep reads."""

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
    """The linked run with the best summary value of the sweep's metric, or None."""
    raise NotImplementedError
