"""The project trash of an entity: what was deleted, restorable until it is purged."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from teams.access import get_entity_for_user

from . import selectors, services
from .access import ProjectNeed, project_rights
from .forms import ProjectDeleteForm
from .models import Project
from .services import ProjectError


@login_required
def project_trash(request, entity):
    """Everyone who may see the entity sees its trash; Restore and Delete forever are offered
    by the rules the services check."""
    entity = get_entity_for_user(request, entity, teams_only=False)
    projects = []
    for project in selectors.projects_in_trash(request.user, entity):
        rights = project_rights(request.user, project, entity.viewer_permissions)
        if ProjectNeed.VIEW not in rights:
            continue
        project.may_restore = ProjectNeed.ADMIN in rights
        project.purge_on = services.purge_date(project)
        projects.append(project)
    return render(
        request,
        "projects/trash.html",
        {
            "entity": entity,
            "projects": projects,
            "retention_days": settings.TRASH_RETENTION_DAYS,
            "delete_form": ProjectDeleteForm(),
        },
    )


def _trashed_project(request, entity_name, project_name) -> tuple[Project, set[str]]:
    """A project in the entity's trash and the user's rights on it; 404 for those who may not
    see it."""
    entity = get_entity_for_user(request, entity_name, teams_only=False)
    project = Project.with_trashed.filter(
        entity=entity, name=project_name, trashed_at__isnull=False
    ).first()
    rights = project_rights(request.user, project, entity.viewer_permissions) if project else ()
    if ProjectNeed.VIEW not in rights:
        raise Http404("No such project in the trash.")
    project.entity = entity
    return project, rights


@login_required
@require_POST
def restore_project(request, entity, project):
    project, rights = _trashed_project(request, entity, project)
    if ProjectNeed.ADMIN not in rights:
        raise PermissionDenied("Only the team's admins and the project's creator can restore it.")
    try:
        services.project_restore(project=project, actor=request.user)
    except ProjectError as error:
        messages.error(request, str(error))
        return redirect("projects:trash", project.entity.name)
    messages.success(request, f"Project {project.path} and its runs were restored.")
    return redirect(project)


@login_required
@require_POST
def delete_project_forever(request, entity, project):
    project, _ = _trashed_project(request, entity, project)
    if not project.entity.viewer_is_admin:
        raise PermissionDenied(f"Only admins of {project.entity.name} can delete it for good.")
    try:
        services.project_delete_forever(
            project=project,
            actor=request.user,
            confirm_name=ProjectDeleteForm(request.POST).typed_name(),
        )
    except ProjectError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Project {project.path} was deleted for good.")
    return redirect("projects:trash", project.entity.name)
