"""Project checks: 404 for those who may not know a project exists, 403 for lacking rights."""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404

from teams.access import Need, entity_permissions, may_change_own

from .models import Project


class ProjectNeed(StrEnum):
    VIEW = "view"
    WRITE = "write"  # log runs, move runs in
    ADMIN = "admin"  # project settings: entity admins and the project's creator


def project_rights(user, project: Project, permissions: set[str]) -> set[str]:
    rights = set()
    if Need.VIEW in permissions or project.is_public:
        rights.add(ProjectNeed.VIEW)
    if Need.WRITE in permissions:
        rights.add(ProjectNeed.WRITE)
    if may_change_own(permissions, project.created_by_id, user):
        rights.add(ProjectNeed.ADMIN)
    return rights


def get_project_for_user(request, entity_name, project_name, *, need=ProjectNeed.VIEW) -> Project:
    project = (
        Project.objects.select_related("entity")
        .filter(entity__name=entity_name, name=project_name)
        .first()
    )
    if project is None:
        raise Http404("No such project.")
    permissions = entity_permissions(request.user, project.entity)
    rights = project_rights(request.user, project, permissions)
    if ProjectNeed.VIEW not in rights:
        raise Http404("No such project.")
    if need not in rights:
        if request.user.is_authenticated:
            raise PermissionDenied(f"You cannot {need} this project.")
        raise Http404("No such project.")
    project.viewer_rights = rights
    project.viewer_entity_permissions = permissions
    return project
