from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from projects.models import Project


class Run(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        CRASHED = "crashed", "Crashed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    # The client's id (W&B style, e.g. "a6opolcx"), unique within a project.
    run_id = models.CharField(max_length=128)
    name = models.CharField(max_length=255, blank=True, help_text="The display name.")
    # A removed member's runs stay; a deleted person's runs stay without an author.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
    )
    state = models.CharField(max_length=10, choices=State, default=State.RUNNING)
    config = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    group = models.CharField(max_length=255, blank=True)
    job_type = models.CharField(max_length=255, blank=True)
    git_remote = models.CharField(max_length=1024, blank=True)
    git_commit = models.CharField(max_length=64, blank=True)
    program = models.CharField(max_length=1024, blank=True)
    host = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Seconds from start to the last heartbeat or the end, kept by whoever updates the run, so
    # the runs table sorts on a column instead of computing it for every row.
    runtime = models.FloatField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "run_id"], name="run_id_unique_per_project"),
        ]
        indexes = [
            models.Index(fields=["project", "created_at", "id"], name="run_project_created"),
            models.Index(fields=["project", "state"], name="run_project_state"),
            models.Index(fields=["project", "author"], name="run_project_author"),
            models.Index(fields=["project", "name", "id"], name="run_project_name"),
            models.Index(fields=["project", "runtime", "id"], name="run_project_runtime"),
        ]

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return reverse(
            "runs:detail", args=[self.project.entity.name, self.project.name, self.run_id]
        )

    @property
    def display_name(self):
        return self.name or self.run_id
