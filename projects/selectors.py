from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from teams.models import Entity, EntityUserObjectPermission
from teams.selectors import entities_writable_by

from .models import Project, ProjectMember


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


def all_projects_visible_to(user):
    """Every project the user may see, of any entity: public ones and its teams' ones."""
    public = Q(visibility=Project.Visibility.PUBLIC)
    if not user.is_authenticated:
        return Project.objects.filter(public)
    return Project.objects.filter(public | Q(_member_of(user, "view_entity")))


def projects_writable_by(user):
    """Every project the user may write to (log runs, move runs in), grouped by entity."""
    return (
        Project.objects.filter(entity__in=entities_writable_by(user).order_by())
        .select_related("entity")
        .order_by("entity__kind", "entity__name", "name")
    )


HOME_PROJECTS = 20


def recent_projects_of(user, limit: int = HOME_PROJECTS):
    """The projects of the user's own entities (personal and teams), latest activity first: the
    last run logged, else the project's creation. One query, whatever the number of rows."""
    # Runs live in a later app; the reverse relation names their model without importing it.
    Run = Project._meta.get_field("runs").related_model
    last_run = Run.objects.filter(project=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Project.objects.filter(_member_of(user, "view_entity"))
        .select_related("entity")
        .annotate(last_run_at=Subquery(last_run.values("created_at")[:1]))
        .annotate(active_at=Coalesce("last_run_at", "created_at"))
        .order_by("-active_at", "entity__name", "name")[:limit]
    )


def projects_in_trash(user, entity: Entity):
    """The entity's projects in the trash, latest first, each with who put it there,
    `run_count` (the runs that went with it and come back with it) and `viewer_is_named`
    (whether the user is named on it, for project_rights on restricted projects)."""
    named = ProjectMember.objects.filter(
        project=OuterRef("pk"), membership__user=user.pk, membership__entity=OuterRef("entity")
    )
    return (
        Project.with_trashed.filter(entity=entity, trashed_at__isnull=False)
        .select_related("entity", "created_by", "trashed_by")
        .annotate(
            run_count=Count("runs", filter=Q(runs__trashed_with_project=True)),
            viewer_is_named=Exists(named),
        )
        .order_by("-trashed_at", "name")
    )
