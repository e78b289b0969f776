import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

# Names appear in every URL (/<entity>/<project>/), so words that the site's own top-level
# paths use, or may use, are refused.
RESERVED_NAMES = frozenset(
    """
    about accounts admin api app artifacts artifactsv2 assets auth billing docs download downloads
    entities entity explore favicon.ico files graphql health healthz help home invitations
    invite login logout me media new notifications org orgs organization organizations project
    projects readyz robots.txt run runs sdk search settings shared signup static storage support
    sweeps
    system team teams user users wandb www
    """.split()
)

entity_name_validator = RegexValidator(
    r"\A[a-z0-9](?:[a-z0-9_-]{0,37}[a-z0-9])?\Z",
    "Use 1 to 39 lowercase letters, digits, dashes or underscores, starting and ending "
    "with a letter or digit.",
)


class Entity(models.Model):
    """A name that owns projects: a user's personal entity or a team."""

    class Kind(models.TextChoices):
        USER = "user", "User"
        TEAM = "team", "Team"

    name = models.CharField(max_length=39, validators=[entity_name_validator], editable=False)
    kind = models.CharField(max_length=4, choices=Kind)
    # The person a personal entity belongs to; empty for teams.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="personal_entity",
    )
    is_private = models.BooleanField(
        default=False, help_text="Every project is visible to team members only."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "entities"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="entity_name_unique_ci"),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="user", user__isnull=False)
                    | models.Q(kind="team", user__isnull=True)
                ),
                name="entity_user_iff_personal",
            ),
        ]
        permissions = [
            ("write_entity", "Can create projects and log runs"),
            ("admin_entity", "Can manage members, invitations, privacy and service accounts"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_team(self):
        return self.kind == self.Kind.TEAM

    def get_settings_url(self):
        return reverse("teams:settings", args=[self.name])

    def get_members_url(self):
        return reverse("teams:members", args=[self.name])


class EntityUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Entity, on_delete=models.CASCADE)


class EntityGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Entity, on_delete=models.CASCADE)


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    SERVICE = "service", "Service account"
    # Sees what members see and writes nothing.
    VIEWER = "viewer", "Viewer"

    @classmethod
    def human_choices(cls):
        return [
            (cls.ADMIN, cls.ADMIN.label),
            (cls.MEMBER, cls.MEMBER.label),
            (cls.VIEWER, cls.VIEWER.label),
        ]


# The single mapping from a role to the object permissions it grants on its entity.
ROLE_PERMISSIONS = {
    Role.ADMIN: {"view_entity", "write_entity", "admin_entity"},
    Role.MEMBER: {"view_entity", "write_entity"},
    Role.SERVICE: {"view_entity", "write_entity"},
    Role.VIEWER: {"view_entity"},
}

# Roles by rank, for "nobody grants more than they have".
ROLE_RANK = {Role.VIEWER: 0, Role.SERVICE: 0, Role.MEMBER: 1, Role.ADMIN: 2}


class MembershipQuerySet(models.QuerySet):
    def human_admins(self):
        return self.filter(role=Role.ADMIN, user__is_service=False, user__is_active=True)


class Membership(models.Model):
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role, default=Role.MEMBER)
    # Where the user's new projects and runs go when they name no entity.
    is_default = models.BooleanField(default=False)
    # Email me the alerts of this team's runs (`run.alert(...)`), not only of my own runs.
    alert_emails = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "user"], name="membership_unique_entity_user"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_default=True),
                name="membership_one_default_per_user",
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.entity} ({self.role})"


def default_invitation_expiry():
    return timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.human_choices(), default=Role.MEMBER)
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Only the hash is kept: the raw token lives in the emailed link alone.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=default_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["entity", "email"], name="invitation_entity_email")]

    def __str__(self):
        return f"{self.email} to {self.entity} ({self.role})"

    @property
    def status(self):
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.is_expired():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def is_expired(self):
        return self.expires_at <= timezone.now()

    @property
    def is_pending(self):
        return self.status == self.Status.PENDING


class AuditEvent(models.Model):
    """Who did what in an entity, written by the services that do it."""

    class Verb(models.TextChoices):
        INVITATION_SENT = "invitation.sent", "sent an invitation"
        INVITATION_RESENT = "invitation.resent", "resent an invitation"
        INVITATION_ACCEPTED = "invitation.accepted", "accepted an invitation"
        INVITATION_REVOKED = "invitation.revoked", "revoked an invitation"
        MEMBER_ADDED = "member.added", "added a member"
        ROLE_CHANGED = "member.role_changed", "changed a role"
        MEMBER_REMOVED = "member.removed", "removed a member"
        MEMBER_LEFT = "member.left", "left the team"
        PRIVACY_CHANGED = "team.privacy_changed", "changed privacy"
        TEAM_CREATED = "team.created", "created the team"
        SERVICE_ACCOUNT_CREATED = "service_account.created", "created a service account"
        SERVICE_ACCOUNT_DELETED = "service_account.deleted", "deleted a service account"
        PROJECT_CREATED = "project.created", "created a project"
        PROJECT_UPDATED = "project.updated", "changed a project"
        PROJECT_DELETED = "project.deleted", "moved a project to the trash"
        PROJECT_RESTORED = "project.restored", "restored a project from the trash"
        PROJECT_PURGED = "project.purged", "deleted a project for good"
        PROJECT_ACCESS_CHANGED = "project.access_changed", "changed who may see a project"
        RUNS_MOVED_OUT = "runs.moved_out", "moved runs out"
        RUNS_MOVED_IN = "runs.moved_in", "moved runs in"
        RUNS_DELETED = "runs.deleted", "moved runs to the trash"
        RUNS_RESTORED = "runs.restored", "restored runs from the trash"
        RUNS_PURGED = "runs.purged", "deleted runs for good"

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as text so the trail still reads after the actor or the target is gone.
    actor_name = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=40, choices=Verb)
    target = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["entity", "-created_at"], name="audit_entity_time")]

    def __str__(self):
        return f"{self.actor_name or 'system'} {self.get_verb_display()} {self.target}".strip()
