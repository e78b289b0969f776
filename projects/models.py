from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from teams.models import Entity, Membership

project_name_validator = RegexValidator(
    r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\Z",
    "Use up to 128 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
)

# Names the project's own URLs use below /<entity>/.
RESERVED_PROJECT_NAMES = frozenset({"settings", "new", "projects", "registry"})


class LiveManager(models.Manager):
    """What the site shows: rows in the trash are left out (`with_trashed` has them all)."""

    def get_queryset(self):
        return super().get_queryset().filter(trashed_at__isnull=True)


class Project(models.Model):
    class Visibility(models.TextChoices):
        TEAM = "team", "Team: members only"
        PUBLIC = "public", "Public: anyone with the link"

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=128, validators=[project_name_validator])
    description = models.TextField(blank=True)
    visibility = models.CharField(max_length=6, choices=Visibility, default=Visibility.TEAM)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Runs created in the project so far: the N of generated run names ("keen-glade-N"),
    # raised only through runs.names.run_numbers_reserve.
    run_counter = models.PositiveIntegerField(default=0, editable=False)
    # Seen only by the team members named on it (ProjectMember) and the team's admins.
    is_restricted = models.BooleanField(default=False)
    # In the trash since then (its name stays taken until it is purged); empty when live.
    trashed_at = models.DateTimeField(null=True, blank=True)
    trashed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    with_trashed = models.QuerySet.as_manager()
    objects = LiveManager()

    class Meta:
        default_manager_name = "objects"
        ordering = ["entity__name", "name"]
        constraints = [
            models.UniqueConstraint("entity", Lower("name"), name="project_name_unique_per_entity"),
        ]
        indexes = [
            models.Index(
                fields=["trashed_at"],
                condition=models.Q(trashed_at__isnull=False),
                name="project_in_trash",
            ),
        ]

    def __str__(self):
        return f"{self.entity.name}/{self.name}"

    def get_absolute_url(self):
        return reverse("project", args=[self.entity.name, self.name])

    @property
    def path(self):
        return f"{self.entity.name}/{self.name}"

    @property
    def is_public(self):
        # Stored, not derived from the team: making a team private makes its projects team-only
        # (projects.services.team_privacy_set), and making it public again publishes nothing.
        return self.visibility == self.Visibility.PUBLIC

    def get_settings_url(self):
        return reverse("projects:settings", args=[self.entity.name, self.name])


class ProjectMember(models.Model):
    """A member of the team named on a restricted project. Tied to the membership, so leaving
    the team (or being removed) ends it, and joining again does not bring it back."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="named_members")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "membership"], name="project_member_unique"),
        ]

    def __str__(self):
        return f"{self.membership.user} on {self.project}"
