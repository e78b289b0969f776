"""Hyperparameter sweeps: a search over a run configuration, handed out point by point to
agents (`wandb agent`) by the server. A run joins a sweep through its SweepRun slot."""

import secrets
import string

from django.conf import settings
from django.db import models
from django.db.models import Q

from projects.models import Project
from runs.models import Run

NAME_ALPHABET = string.ascii_lowercase + string.digits


def random_name() -> str:
    """A sweep's or agent's name, as W&B's: 8 random characters [a-z0-9]."""
    return "".join(secrets.choice(NAME_ALPHABET) for _ in range(8))


class Sweep(models.Model):
    # The strings W&B's client sends and compares (internal_api.py).
    class State(models.TextChoices):
        PENDING = "PENDING", "Pending"
        RUNNING = "RUNNING", "Running"
        PAUSED = "PAUSED", "Paused"
        FINISHED = "FINISHED", "Finished"
        CANCELED = "CANCELED", "Canceled"
        FAILED = "FAILED", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sweeps")
    # The client's sweep id: 8 random characters [a-z0-9].
    name = models.CharField(max_length=16, unique=True)
    display_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The YAML text as the client sent it (answered back as `config`), and its parsed form.
    config_yaml = models.TextField()
    config = models.JSONField(default=dict)
    method = models.CharField(max_length=16)
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    # The local controller's schedule/earlystop (`wandb controller`), as the client wrote it.
    controller = models.JSONField(null=True, blank=True)
    # What the server writes back: {"scheduled": [...]} plus the launch scheduler spec.
    scheduler = models.JSONField(default=dict, blank=True)
    template_variable_values = models.JSONField(null=True, blank=True)
    grid_size = models.BigIntegerField(null=True, blank=True)
    # The next grid index to try; indices below it are handed out or covered.
    grid_cursor = models.BigIntegerField(default=0)
    # Points handed out for the first time (the run cap's counter; re-queued points do not count).
    points_issued = models.IntegerField(default=0)
    run_cap = models.IntegerField(null=True, blank=True)
    metric_name = models.CharField(max_length=512, blank=True)
    metric_goal = models.CharField(max_length=8, blank=True)
    early_terminate = models.BooleanField(default=False)
    early_stop_checked_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "created_at"], name="sweep_project_created")]

    def __str__(self):
        return self.name

    @property
    def title(self) -> str:
        """What the pages call it: its display name, else its config's `name` (as the client
        and W&B name a sweep), else its id."""
        named = self.config.get("name") if isinstance(self.config, dict) else None
        return self.display_name or (named.strip() if isinstance(named, str) else "") or self.name

    @property
    def is_live(self) -> bool:
        return self.state in (self.State.PENDING, self.State.RUNNING, self.State.PAUSED)


class SweepAgent(models.Model):
    class State(models.TextChoices):
        RUNNING = "RUNNING", "Running"
        FINISHED = "FINISHED", "Finished"
        CRASHED = "CRASHED", "Crashed"

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=16)
    host = models.CharField(max_length=255)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State, default=State.RUNNING)
    created_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "name"], name="sweep_agent_name_unique"),
        ]
        indexes = [
            # The timeout scan: the RUNNING agents of a sweep that went quiet.
            models.Index(fields=["sweep", "state", "heartbeat_at"], name="sweep_agent_state_beat"),
        ]

    def __str__(self):
        return f"{self.sweep.name}/{self.name}"


class SweepRun(models.Model):
    """A slot: one point of the search, and the run that explores it once there is one."""

    class Kind(models.TextChoices):
        AGENT = "AGENT", "Agent"
        CONTROLLER = "CONTROLLER", "Local controller"
        MANUAL = "MANUAL", "Manual"
        PRIOR = "PRIOR", "Prior run"

    class State(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RESERVED = "RESERVED", "Reserved"
        RUNNING = "RUNNING", "Running"
        DONE = "DONE", "Done"
        LOST = "LOST", "Lost"

    LIVE_STATES = (State.QUEUED, State.RESERVED, State.RUNNING)

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="slots")
    run = models.OneToOneField(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="sweep_link"
    )
    # The run id handed out to the agent (the run may not exist yet); the client's run "name".
    # Not `run_id`: that is the `run` foreign key's column.
    run_name = models.CharField(max_length=128, blank=True)
    agent = models.ForeignKey(
        SweepAgent, on_delete=models.SET_NULL, null=True, blank=True, related_name="slots"
    )
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.AGENT)
    state = models.CharField(max_length=10, choices=State, default=State.QUEUED)
    # The engine's form: {"lr": {"value": 0.01}, ...}.
    params = models.JSONField(default=dict)
    point_index = models.BigIntegerField(null=True, blank=True)
    schedule_id = models.CharField(max_length=32, blank=True)
    should_stop = models.BooleanField(default=False)
    stop_reason = models.CharField(max_length=32, blank=True)
    stop_info = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    handed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # A grid point is live once: the backstop against handing one point out twice.
            models.UniqueConstraint(
                fields=["sweep", "point_index"],
                condition=Q(point_index__isnull=False) & ~Q(state="LOST"),
                name="sweep_run_point_live_once",
            ),
            models.UniqueConstraint(
                fields=["sweep", "run_name"],
                condition=~Q(run_name=""),
                name="sweep_run_run_name_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "state"], name="sweep_run_agent_state"),
            models.Index(fields=["sweep", "state", "id"], name="sweep_run_sweep_state"),
        ]

    def __str__(self):
        return f"{self.sweep_id}:{self.run_name or self.pk}"
