"""Project checks: 404 for those who may not know a project exists, 403 for lacking rights."""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404

from teams.access import Need, entity_permissions, may_change_own

from .models import Project, ProjectMember


class ProjectNeed(StrEnum):
    VIEW = "view"
    WRITE = "write"  # log runs, move runs in
    ADMIN = "admin"  # project settings: entity admins and the project's creator


def is_named_on(user, project: Project) -> bool:
    """Whether the user is named on the (restricted) project. Lists annotate the answer as
    `viewer_is_named` (projects.selectors), so a page of projects asks nothing more."""
    if not user.is_authenticated:
        return False
    named = getattr(project, "viewer_is_named", None)
    if named is not None:
        return named
    return ProjectMember.objects.filter(
        project=project, membership__user=user, membership__entity_id=project.entity_id
    ).exists()


def may_enter(user, project: Project, permissions: set[str]) -> bool:
    """A restricted project lets in the entity's admins and the members named on it, nobody
    else: to the rest of the team it is as unknown as a private project to an outsider."""
    if not project.is_restricted or Need.ADMIN in permissions:
        return True
    return Need.VIEW in permissions and is_named_on(user, project)


def project_rights(user, project: Project, permissions: set[str]) -> set[str]:
    rights = set()
    if not may_enter(user, project, permissions):
        return rights
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
