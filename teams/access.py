"""The checks every view starts with: 404 for those who may not know a thing exists, 403 for
members who lack the role."""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404
from guardian.shortcuts import get_user_perms

from .models import Entity


class Need(StrEnum):
    VIEW = "view_entity"
    WRITE = "write_entity"
    ADMIN = "admin_entity"


def may_change_own(permissions: set[str], owner_id, user) -> bool:
    """The team's rule for a thing someone made (a run, an alert rule, a report, a project):
    its admins change any; a member changes their own while they may write. `permissions`:
    the user's on the entity that holds it."""
    if Need.ADMIN in permissions:
        return True
    return Need.WRITE in permissions and owner_id is not None and owner_id == user.pk


def viewer_refusal(entity: Entity, action: str) -> str:
    """What a viewer of a team is told when they try to write to it."""
    return (
        f"You are a viewer in {entity.name}; viewers cannot {action}. "
        f"You need the member role: ask an admin of {entity.name}."
    )


def entity_permissions(user, entity: Entity) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(get_user_perms(user, entity))


def get_entity_for_user(request, name: str, *, need: Need = Need.VIEW, teams_only=True) -> Entity:
    entity = Entity.objects.filter(name=name).first()
    if entity is None or (teams_only and not entity.is_team):
        raise Http404("No such team.")
    permissions = entity_permissions(request.user, entity)
    if Need.VIEW not in permissions:
        raise Http404("No such team.")
    if need not in permissions:
        role = {Need.WRITE: "member"}.get(need, need.removesuffix("_entity"))
        raise PermissionDenied(f"You need the {role} role in {entity.name}.")
    # Templates show or hide controls by these; the server re-checks on every action.
    entity.viewer_permissions = permissions
    entity.viewer_is_admin = Need.ADMIN in permissions
    return entity
