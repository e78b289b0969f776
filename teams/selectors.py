"""Reads that lists need, each a fixed number of queries whatever the number of rows."""

from django.db.models import Count, Q
from guardian.shortcuts import get_objects_for_user

from .models import AuditEvent, Entity, Invitation, Membership, Role


def entities_writable_by(user):
    """Where the user may write (create projects, log runs, move runs in): the entities their
    roles grant it on. Being a site admin adds nothing here, so every list of targets offers
    exactly what the services accept (`may_write`)."""
    return get_objects_for_user(
        user, "teams.write_entity", klass=Entity, accept_global_perms=False, with_superuser=False
    ).order_by("kind", "name")


def may_write(user, entity: Entity) -> bool:
    """The check the services make before writing to an entity: the same rule as the lists."""
    return entities_writable_by(user).filter(pk=entity.pk).exists()


def default_entity_of(user) -> Entity | None:
    membership = (
        Membership.objects.filter(user=user, is_default=True).select_related("entity").first()
    )
    return membership.entity if membership else None


def team_memberships_of(user):
    return (
        Membership.objects.filter(user=user, entity__kind=Entity.Kind.TEAM)
        .select_related("entity")
        .annotate(
            member_count=Count(
                "entity__memberships", filter=~Q(entity__memberships__role=Role.SERVICE)
            )
        )
        .order_by("entity__name")
    )


def people_of(entity: Entity):
    return (
        Membership.objects.filter(entity=entity)
        .exclude(role=Role.SERVICE)
        .select_related("user")
        .order_by("user__username")
    )


def pending_invitations_of(entity: Entity):
    return Invitation.objects.pending().filter(entity=entity).select_related("inviter")


def service_accounts_of(entity: Entity):
    return (
        Membership.objects.filter(entity=entity, role=Role.SERVICE)
        .select_related("user")
        .prefetch_related("user__api_keys")
        .order_by("user__username")
    )


def audit_events_of(entity: Entity):
    return AuditEvent.objects.filter(entity=entity).order_by("-created_at", "-id")
