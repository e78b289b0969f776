from django.db.models import Exists, OuterRef, Q

from teams.models import Entity, EntityUserObjectPermission
from teams.selectors import entities_writable_by

from .models import Project


def _member_of(user, codename):
    return Exists(
        EntityUserObjectPermission.objects.filter(
            user=user.pk, content_object=OuterRef("entity"), permission__codename=codename
        )
    )


def projects_visible_to(user, entity: Entity):
    """The entity's projects the user may see: all for members, public ones for others."""
    projects = Project.objects.filter(entity=entity).select_related("entity", "created_by")
    public = Q(visibility=Project.Visibility.PUBLIC)
    if not user.is_authenticated:
        return projects.filter(public)
    return projects.filter(public | Q(_member_of(user, "view_entity")))


def projects_writable_by(user):
    """Every project the user may write to (log runs, move runs in), grouped by entity."""
    return (
        Project.objects.filter(entity__in=entities_writable_by(user).order_by())
        .select_related("entity")
        .order_by("entity__kind", "entity__name", "name")
    )
