"""Writes that touch several tables: entities, memberships, invitations, service accounts.

Every function is atomic; those that depend on other rows (the team keeps a human admin, an
invitation is used once) lock the row the rule hangs on first.
"""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey
from teamsite.lib.emails import absolute_url, send_templated_email
from teamsite.lib.tokens import hash_token, new_token

from .models import (
    RESERVED_NAMES,
    ROLE_PERMISSIONS,
    ROLE_RANK,
    AuditEvent,
    Entity,
    EntityUserObjectPermission,
    Invitation,
    Membership,
    Role,
    entity_name_validator,
)

User = get_user_model()

RESEND_INTERVAL = timedelta(minutes=1)


class TeamError(Exception):
    """A request that breaks a rule of teams; its message is shown to the user as it is, next to
    the form field it is about (`field`) when there is one."""

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message)
        self.field = field


def audit_event(entity: Entity, actor, verb: str, target: str = "", **details) -> AuditEvent:
    """An unsaved audit entry, for callers that record many at once (`bulk_create`)."""
    return AuditEvent(
        entity=entity,
        actor=actor if actor and actor.pk else None,
        actor_name=actor.username if actor and actor.pk else "",
        verb=verb,
        target=str(target)[:255],
        details=details,
    )


def audit(entity: Entity, actor, verb: str, target: str = "", **details) -> AuditEvent:
    """Record an action in the entity's audit trail (inside the caller's transaction)."""
    event = audit_event(entity, actor, verb, target, **details)
    event.save()
    return event


# Names


def validate_entity_name(name: str) -> str:
    """Raise ValidationError unless `name` can become a new entity (user or team)."""
    entity_name_validator(name)
    if name.lower() in RESERVED_NAMES:
        raise ValidationError(f"“{name}” is reserved. Choose another name.", code="reserved")
    if Entity.objects.filter(name__iexact=name).exists():
        raise ValidationError(f"The name “{name}” is taken.", code="taken")
    return name


def _check_name(name: str) -> None:
    try:
        validate_entity_name(name)
    except ValidationError as error:
        raise TeamError(" ".join(error.messages)) from error


# Permissions


def _sync_permissions(membership: Membership | None, *, entity: Entity, user) -> None:
    """Make the user's object permissions on the entity exactly those of their role."""
    EntityUserObjectPermission.objects.filter(user=user, content_object=entity).delete()
    if membership is None:
        return
    codenames = ROLE_PERMISSIONS[Role(membership.role)]
    permissions = Permission.objects.filter(
        content_type__app_label="teams", content_type__model="entity", codename__in=codenames
    )
    EntityUserObjectPermission.objects.bulk_create(
        EntityUserObjectPermission(user=user, content_object=entity, permission=permission)
        for permission in permissions
    )


def _lock(entity: Entity) -> Entity:
    return Entity.objects.select_for_update().get(pk=entity.pk)


def check_keeps_human_admin(entity: Entity, *, losing: Membership) -> None:
    """Refuse a change that would leave the team without an active human admin."""
    if not entity.is_team or losing.role != Role.ADMIN:
        return
    others = Membership.objects.human_admins().filter(entity=entity).exclude(pk=losing.pk)
    if not others.exists():
        raise TeamError(
            f"{losing.user.username} is the last admin of {entity.name}. "
            "Make someone else an admin first."
        )


# Users and personal entities


@transaction.atomic
def personal_entity_create(*, user) -> Entity:
    _check_name(user.username)
    entity = Entity.objects.create(name=user.username, kind=Entity.Kind.USER, user=user)
    membership = Membership.objects.create(
        entity=entity, user=user, role=Role.ADMIN, is_default=True
    )
    _sync_permissions(membership, entity=entity, user=user)
    return entity


@transaction.atomic
def user_create(*, username: str, email: str, password: str | None = None):
    """A person with a verified email and a personal entity (operator commands, demo data)."""
    _check_name(username)
    if (
        EmailAddress.objects.filter(email__iexact=email).exists()
        or User.objects.filter(email__iexact=email).exists()
    ):
        raise TeamError(f"The email address {email} is already in use.")
    user = User(username=username, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    personal_entity_create(user=user)
    return user


def user_delete_refusals(user) -> list[str]:
    """Why deleting this user would break a team (each team they are the last admin of)."""
    refusals = []
    for membership in Membership.objects.filter(
        user=user, role=Role.ADMIN, entity__kind=Entity.Kind.TEAM
    ).select_related("entity", "user"):
        try:
            check_keeps_human_admin(membership.entity, losing=membership)
        except TeamError as error:
            refusals.append(str(error))
    return refusals


@transaction.atomic
def user_delete(*, user) -> None:
    """Delete a person, unless a team would lose its last human admin."""
    for membership in Membership.objects.filter(user=user, entity__kind=Entity.Kind.TEAM):
        _lock(membership.entity)
    refusals = user_delete_refusals(user)
    if refusals:
        raise TeamError(" ".join(refusals))
    user.delete()


# Teams and memberships

# The roles a person (not a service account) holds in a team.
PERSON_ROLES = tuple(role for role, _ in Role.human_choices())


def _writes(role: str) -> bool:
    return "write_entity" in ROLE_PERMISSIONS[Role(role)]


def _default_to_personal(user) -> None:
    """Their personal entity becomes the default again (it is always one they write to)."""
    Membership.objects.filter(user=user, is_default=True).update(is_default=False)
    Membership.objects.filter(entity__user=user).update(is_default=True)


@transaction.atomic
def team_create(*, name: str, creator) -> Entity:
    if creator.is_service:
        raise TeamError("Service accounts cannot create teams.")
    _check_name(name)
    team = Entity.objects.create(name=name, kind=Entity.Kind.TEAM)
    membership_add(entity=team, user=creator, role=Role.ADMIN, actor=creator)
    audit(team, creator, AuditEvent.Verb.TEAM_CREATED, team.name)
    return team


@transaction.atomic
def membership_add(*, entity: Entity, user, role: str, actor=None) -> Membership:
    """Add a person to a team. A team they may write to becomes their default entity (they
    joined it); a viewer's default stays where their runs can go (`wandb.init()` logs there)."""
    if not entity.is_team:
        raise TeamError("Only teams have members.")
    if user.is_service:
        raise TeamError("A service account belongs to the team that created it.")
    if role not in PERSON_ROLES:
        raise TeamError(f"Unknown role “{role}”.")
    _lock(entity)
    if Membership.objects.filter(entity=entity, user=user).exists():
        raise TeamError(f"{user.username} is already a member of {entity.name}.")
    becomes_default = _writes(role)
    if becomes_default:
        Membership.objects.filter(user=user, is_default=True).update(is_default=False)
    membership = Membership.objects.create(
        entity=entity, user=user, role=role, is_default=becomes_default
    )
    _sync_permissions(membership, entity=entity, user=user)
    audit(entity, actor, AuditEvent.Verb.MEMBER_ADDED, user.username, role=role)
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, actor=None) -> Membership:
    if role not in PERSON_ROLES or membership.role == Role.SERVICE:
        raise TeamError(
            "A person is an admin, a member or a viewer; service accounts keep their role."
        )
    entity = _lock(membership.entity)
    membership = Membership.objects.select_related("user").get(pk=membership.pk)
    if role != Role.ADMIN:
        check_keeps_human_admin(entity, losing=membership)
    old_role = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _sync_permissions(membership, entity=entity, user=membership.user)
    if membership.is_default and not _writes(role):
        # Their scripts would log to a team that now refuses their runs.
        _default_to_personal(membership.user)
        membership.is_default = False
    if old_role != role:
        audit(
            entity,
            actor,
            AuditEvent.Verb.ROLE_CHANGED,
            membership.user.username,
            old=old_role,
            new=role,
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor=None) -> None:
    """Take a person out of a team. What they logged stays, attributed to them."""
    entity = _lock(membership.entity)
    membership = Membership.objects.select_related("user").get(pk=membership.pk)
    if not entity.is_team:
        raise TeamError("Nobody can be removed from a personal entity.")
    check_keeps_human_admin(entity, losing=membership)
    user = membership.user
    was_default = membership.is_default
    membership.delete()
    _sync_permissions(None, entity=entity, user=user)
    if was_default:
        _default_to_personal(user)
    if actor is not None and actor.pk == user.pk:
        audit(entity, actor, AuditEvent.Verb.MEMBER_LEFT, user.username)
    else:
        audit(entity, actor, AuditEvent.Verb.MEMBER_REMOVED, user.username, role=membership.role)


@transaction.atomic
def alert_emails_set(*, membership: Membership, enabled: bool) -> None:
    """Email me the alerts of all the team's runs (my own runs' alerts come anyway)."""
    membership.alert_emails = enabled
    membership.save(update_fields=["alert_emails"])


def default_entity_set(*, user, entity: Entity) -> None:
    writing_roles = [role for role in PERSON_ROLES if _writes(role)]
    membership = Membership.objects.filter(user=user, entity=entity, role__in=writing_roles).first()
    if membership is None:
        raise TeamError("You can only choose an entity you can write to.")
    Membership.objects.filter(user=user, is_default=True).update(is_default=False)
    Membership.objects.filter(pk=membership.pk).update(is_default=True)


@transaction.atomic
def entity_set_privacy(*, entity: Entity, is_private: bool, actor=None) -> Entity:
    """The team's own flag. A team that has projects changes privacy through
    projects.services.team_privacy_set, which also makes its projects team-only."""
    if not entity.is_team:
        raise TeamError("Privacy is a team setting.")
    entity = _lock(entity)
    if entity.is_private != is_private:
        entity.is_private = is_private
        entity.save(update_fields=["is_private"])
        audit(entity, actor, AuditEvent.Verb.PRIVACY_CHANGED, entity.name, is_private=is_private)
    return entity


# Invitations


def invitation_url(raw_token: str) -> str:
    return absolute_url(reverse("invitation", args=[raw_token]))


def _check_may_invite(entity: Entity, inviter, role: str) -> None:
    membership = Membership.objects.filter(entity=entity, user=inviter).first()
    if membership is None or membership.role != Role.ADMIN:
        raise TeamError(f"Only admins of {entity.name} can invite people.")
    if role not in PERSON_ROLES or ROLE_RANK[Role(role)] > ROLE_RANK[Role(membership.role)]:
        raise TeamError("You cannot invite someone with a role above your own.", field="role")


def _send_invitation(invitation: Invitation, raw_token: str) -> None:
    send_templated_email(
        "invitation",
        [invitation.email],
        {
            "invitation": invitation,
            "team": invitation.entity,
            "inviter": invitation.inviter,
            "role": invitation.get_role_display(),
            "url": invitation_url(raw_token),
            "expires_at": invitation.expires_at,
        },
    )


@transaction.atomic
def invitation_create(*, entity: Entity, inviter, email: str, role: str) -> tuple[Invitation, str]:
    """Invite an email address; returns the invitation and its link (shown once to the inviter)."""
    email = email.strip()
    _lock(entity)
    _check_may_invite(entity, inviter, role)
    if Membership.objects.filter(entity=entity, user__email__iexact=email).exists() or (
        Membership.objects.filter(
            entity=entity,
            user__emailaddress__email__iexact=email,
            user__emailaddress__verified=True,
        ).exists()
    ):
        raise TeamError(f"{email} is already a member of {entity.name}.", field="email")
    if Invitation.objects.pending().filter(entity=entity, email__iexact=email).exists():
        raise TeamError(
            f"{email} already has a pending invitation. Resend it instead.", field="email"
        )
    hour_ago = timezone.now() - timedelta(hours=1)
    if (
        Invitation.objects.filter(entity=entity, created_at__gt=hour_ago).count()
        >= settings.INVITATIONS_PER_HOUR
    ):
        raise TeamError("Too many invitations in the last hour. Try again later.")
    raw_token, token_hash = new_token()
    invitation = Invitation.objects.create(
        entity=entity, email=email, role=role, inviter=inviter, token_hash=token_hash
    )
    _send_invitation(invitation, raw_token)
    audit(entity, inviter, AuditEvent.Verb.INVITATION_SENT, email, role=role)
    return invitation, invitation_url(raw_token)


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor) -> str:
    """Send a fresh link; the old one stops working. Returns the new link."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _check_may_invite(invitation.entity, actor, invitation.role)
    if invitation.accepted_at or invitation.revoked_at:
        raise TeamError("This invitation was already used or revoked.")
    if timezone.now() - invitation.sent_at < RESEND_INTERVAL:
        raise TeamError("This invitation was just sent. Wait a minute before sending it again.")
    raw_token, invitation.token_hash = new_token()
    invitation.sent_at = timezone.now()
    invitation.expires_at = invitation.sent_at + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    invitation.inviter = actor
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at", "inviter"])
    _send_invitation(invitation, raw_token)
    audit(invitation.entity, actor, AuditEvent.Verb.INVITATION_RESENT, invitation.email)
    return invitation_url(raw_token)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor=None) -> None:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise TeamError("This invitation was already accepted.")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit(invitation.entity, actor, AuditEvent.Verb.INVITATION_REVOKED, invitation.email)


def invitation_for_token(raw_token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("entity", "inviter")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )


def invitation_refusal(invitation: Invitation, user) -> str | None:
    """Why this user cannot accept this invitation now, or None if they can."""
    status = invitation.status
    if status != Invitation.Status.PENDING:
        return {
            Invitation.Status.ACCEPTED: "This invitation has already been used.",
            Invitation.Status.REVOKED: "This invitation was revoked by the team's admins.",
            Invitation.Status.EXPIRED: (
                "This invitation has expired. Ask the team's admins for a new one."
            ),
        }[status]
    if user.is_service:
        return "Service accounts cannot accept invitations."
    if not EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists():
        return (
            f"This invitation was sent to {invitation.email}, which is not a verified "
            f"address of your account ({user.username}). Sign in with that address, or add "
            "and verify it in your email settings."
        )
    if Membership.objects.filter(entity=invitation.entity, user=user).exists():
        return f"You are already a member of {invitation.entity.name}."
    return None


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> Membership:
    invitation = (
        Invitation.objects.select_for_update().select_related("entity").get(pk=invitation.pk)
    )
    refusal = invitation_refusal(invitation, user)
    if refusal:
        raise TeamError(refusal)
    membership = membership_add(
        entity=invitation.entity, user=user, role=invitation.role, actor=invitation.inviter
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit(invitation.entity, user, AuditEvent.Verb.INVITATION_ACCEPTED, invitation.email)
    return membership


# Service accounts


def service_account_username(entity: Entity, name: str) -> str:
    # People's usernames are entity names and never hold "@", so these never clash with them.
    return f"{name}@{entity.name}"


@transaction.atomic
def service_account_create(*, entity: Entity, name: str, actor=None) -> tuple[Membership, str]:
    """A bot user of this team and its first API key (returned raw, once)."""
    if not entity.is_team:
        raise TeamError("Service accounts belong to teams.")
    try:
        entity_name_validator(name)
    except ValidationError as error:
        raise TeamError(" ".join(error.messages)) from error
    _lock(entity)
    username = service_account_username(entity, name)
    if User.objects.filter(username__iexact=username).exists():
        raise TeamError(f"{entity.name} already has a service account named “{name}”.")
    user = User(username=username, first_name=name, is_service=True)
    user.set_unusable_password()
    user.save()
    membership = Membership.objects.create(
        entity=entity, user=user, role=Role.SERVICE, is_default=True
    )
    _sync_permissions(membership, entity=entity, user=user)
    _, raw_key = ApiKey.create_for(user=user, label=f"{name} (created with the account)")
    audit(entity, actor, AuditEvent.Verb.SERVICE_ACCOUNT_CREATED, name)
    return membership, raw_key


def service_account_key_create(*, membership: Membership, label: str) -> str:
    _, raw_key = ApiKey.create_for(user=membership.user, label=label)
    return raw_key


@transaction.atomic
def service_account_delete(*, membership: Membership, actor=None) -> None:
    """Delete the bot with its keys; automation using them stops at once."""
    if membership.role != Role.SERVICE:
        raise TeamError("Only service accounts are deleted this way.")
    audit(
        membership.entity,
        actor,
        AuditEvent.Verb.SERVICE_ACCOUNT_DELETED,
        membership.user.first_name,
    )
    membership.user.delete()


def invitations_delete_expired(*, now=None) -> int:
    """Delete invitations nobody accepted, INVITATION_KEEP_DAYS after they expired: until then
    their link still says "expired" rather than "not found". Run by the periodic jobs."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.INVITATION_KEEP_DAYS)
    deleted, _ = Invitation.objects.filter(accepted_at__isnull=True, expires_at__lt=cutoff).delete()
    return deleted
