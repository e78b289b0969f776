from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from teams.models import Entity, EntityUserObjectPermission, Membership, Role
from teams.selectors import entities_writable_by

from .models import Project, ProjectMember


def _member_of(user, codename):
    return Exists(
        EntityUserObjectPermission.objects.filter(
            user=user.pk, content_object=OuterRef("entity"), permission__codename=codename
        )
    )


def _named_on(user):
    return Exists(
        ProjectMember.objects.filter(
            project=OuterRef("pk"), membership__user=user.pk, membership__entity=OuterRef("entity")
        )
    )


def enterable_by(user) -> Q:
    """The condition projects.access.may_enter checks on one project, for a query: not
    restricted, or the user is an admin of its entity or named on it."""
    unrestricted = Q(is_restricted=False)
    if not user.is_authenticated:
        return unrestricted
    return unrestricted | Q(_member_of(user, "admin_entity")) | Q(_named_on(user))


def projects_visible_to(user, entity: Entity):
    """The entity's projects the user may see: all for members (restricted ones only for
    admins and the members named on them), public ones for others."""
    projects = Project.objects.filter(entity=entity).select_related("entity", "created_by")
    public = Q(visibility=Project.Visibility.PUBLIC)
    if not user.is_authenticated:
        return projects.filter(public, is_restricted=False)
    # `viewer_is_named` spares project_rights a query per restricted project of the page.
    return (
        projects.filter(public | Q(_member_of(user, "view_entity")))
        .filter(enterable_by(user))
        .annotate(viewer_is_named=_named_on(user))
    )


def all_projects_visible_to(user):
    """Every project the user may see, of any entity: public ones and its teams' ones."""
    public = Q(visibility=Project.Visibility.PUBLIC)
    if not user.is_authenticated:
        return Project.objects.filter(public, is_restricted=False)
    return Project.objects.filter(public | Q(_member_of(user, "view_entity"))).filter(
        enterable_by(user)
    )


def projects_writable_by(user):
    """Every project the user may write to (log runs, move runs in), grouped by entity."""
    return (
        Project.objects.filter(entity__in=entities_writable_by(user).order_by())
        .filter(enterable_by(user))
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
        .filter(enterable_by(user))
        .select_related("entity")
        .annotate(last_run_at=Subquery(last_run.values("created_at")[:1]))
        .annotate(active_at=Coalesce("last_run_at", "created_at"))
        .order_by("-active_at", "entity__name", "name")[:limit]
    )


def access_candidates_of(project: Project):
    """Who an admin may name on the project: the team's members and service accounts (its
    admins see it anyway), each with `is_named`. One query."""
    named = ProjectMember.objects.filter(project=project, membership=OuterRef("pk"))
    return (
        Membership.objects.filter(entity=project.entity_id)
        .exclude(role=Role.ADMIN)
        .select_related("user")
        .annotate(is_named=Exists(named))
        .order_by("role", "user__username")
    )


def memberships_entering(project: Project):
    """The memberships of the project's entity whose people may see the project: all of them,
    or for a restricted project its admins and the members named on it. For whoever reaches
    people about the project (alert emails, comment notices): nothing goes to the rest."""
    memberships = Membership.objects.filter(entity=project.entity_id)
    if not project.is_restricted:
        return memberships
    named = ProjectMember.objects.filter(project=project).values("membership")
    return memberships.filter(Q(role=Role.ADMIN) | Q(pk__in=named))


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
