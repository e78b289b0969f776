"""Reports of a project: a title and an ordered body of blocks (Markdown text and live panels
that read the project's runs when the page is shown). The blocks being edited are the draft;
publishing copies the draft into a numbered ReportVersion, which is what readers see.

A block's settings are one JSON object whose shape depends on its kind (reports/blocks.py
checks it); a panel names its runs as {"query": text} or {"ids": [run ids]}, so other ways of
naming runs (a frozen set) can be added as other keys."""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from projects.models import Project


def _key():
    return secrets.token_urlsafe(9)


class Report(models.Model):
    class Visibility(models.TextChoices):
        TEAM = "team", "Team members"
        # Read through reports.access: public only while the team is not private.
        PUBLIC = "public", "Public: anyone, while the team is not private"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    # URLs name a report by a random key, never by its primary key.
    key = models.CharField(max_length=16, unique=True, default=_key, editable=False)
    title = models.CharField(max_length=200)
    visibility = models.CharField(max_length=6, choices=Visibility, default=Visibility.TEAM)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The last change of the draft (title or blocks): later than the last publication means
    # the draft holds changes readers do not see yet.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return self._url("detail")

    def get_edit_url(self):
        return self._url("edit")

    def get_export_url(self):
        return self._url("export")

    def _url(self, name, *args):
        entity, project = self.project.entity.name, self.project.name
        return reverse(f"reports:{name}", args=[entity, project, self.key, *args])


class ReportBlock(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text (Markdown)"
        LINE_CHART = "line_chart", "Line chart of metrics"
        RUNS_TABLE = "runs_table", "Runs table"
        LEADERBOARD = "leaderboard", "Leaderboard"
        SCATTER = "scatter", "Scatter plot"
        PARALLEL_COORDINATES = "parallel_coordinates", "Parallel coordinates"
        MEDIA = "media", "Media of a run"
        ARTIFACT = "artifact", "Artifact card"
        REGISTERED_MODEL = "registered_model", "Registered model card"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="blocks")
    # Kept through publishing, so versions can be compared block by block.
    key = models.CharField(max_length=16, unique=True, default=_key, editable=False)
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=24, choices=Kind)
    config = models.JSONField(default=dict)

    class Meta:
        ordering = ["report", "position", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} in {self.report}"

    def snapshot(self) -> dict:
        return {"key": self.key, "kind": self.kind, "config": self.config}


class ReportVersion(models.Model):
    """A published state of a report: its title and blocks as they were, and who published it."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    blocks = models.JSONField(default=list)  # [{"key", "kind", "config"}] in order
    note = models.CharField(max_length=500, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "number"], name="report_version_unique_number"
            )
        ]

    def __str__(self):
        return f"{self.report} v{self.number}"


class ReportShareLink(models.Model):
    """A view-only link to a report's published version for people outside the team. The raw
    token exists only in the link shown once to its creator; the row keeps its hash."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["report", "-created_at", "-pk"]

    def __str__(self):
        return f"Link to {self.report}" + (f" ({self.label})" if self.label else "")

    def is_active(self, now=None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())


class ReportComment(models.Model):
    """A comment on a report, or on one of its panels (`block_key`, kept through publishing)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="comments")
    block_key = models.CharField(max_length=16, blank=True)  # "": on the report as a whole
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "created_at", "pk"]
        indexes = [models.Index(fields=["report", "created_at"], name="report_comment_by_time")]

    def __str__(self):
        return f"Comment on {self.report}"
