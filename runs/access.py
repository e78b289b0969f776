"""The run a request may see: its project's visibility rules, then the run by its client id."""

from django.shortcuts import get_object_or_404

from projects.access import get_project_for_user

from . import services
from .models import Run


def get_run_for_user(request, entity, project, run_id):
    """(project, run) for a viewer of the project; 404 for anyone who may not see it."""
    project = get_project_for_user(request, entity, project)
    services.project_check_quiet_runs(project=project)
    run = get_object_or_404(
        Run.objects.select_related("author", "project__entity"), project=project, run_id=run_id
    )
    run.project = project  # keep the viewer's rights on it
    return project, run
