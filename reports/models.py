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
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    # URLs name a report by a random key, never by its primary key.
    key = models.CharField(max_length=16, unique=True, default=_key, editable=False)
    title = models.CharField(max_length=200)
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

    def _url(self, name, *args):
        entity, project = self.project.entity.name, self.project.name
        return reverse(f"reports:{name}", args=[entity, project, self.key, *args])


class ReportBlock(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text (Markdown)"
        LINE_CHART = "line_chart", "Line chart of metrics"
        RUNS_TABLE = "runs_table", "Runs table"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="blocks")
    # Kept through publishing, so versions can be compared block by block.
    key = models.CharField(max_length=16, unique=True, default=_key, editable=False)
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=Kind)
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
