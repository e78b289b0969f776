"""Alert rules of a project, and the alerts they fired.

A rule watches one metric (or a run's state) of the project's runs that its scope query
matches. Its parameters are typed columns, each used by the kinds named beside it, so the
database and the admin check them; `clean()` refuses a rule that lacks what its kind needs.
Whether a rule may fire again for a run is kept in one row per (rule, run), RuleRunState,
which a conditional UPDATE (or the INSERT of the first firing) claims: two workers that
evaluate the same chunk never both fire."""

import secrets
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from artifacts.models import ArtifactCollection
from projects.models import Project
from runs.models import Alert as ClientAlert
from runs.models import Run
from runs.query import QueryError, parse_text, to_q
from teams.models import Entity

# Every chunk a worker evaluates compiles the scopes of the project's rules: parse each text
# once per process (the query tree is immutable).
parsed_scope = lru_cache(maxsize=1024)(parse_text)
MAX_WINDOW = 10_000  # values of one metric one evaluation may read
MAX_PEER_RUNS = 1_000


def _rule_key():
    return secrets.token_urlsafe(9)


class Webhook(models.Model):
    """A team's address that alerts are posted to: signed JSON, or a Slack-compatible
    message. The address and the signing secret are stored encrypted (teamsite/lib/secretbox):
    a chat service's hook address is itself a secret. Pages show `url_hint` only."""

    class Format(models.TextChoices):
        GENERIC = "generic", "JSON, signed"
        SLACK = "slack", "Slack-compatible message"

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="alert_webhooks")
    key = models.CharField(max_length=16, unique=True, default=_rule_key, editable=False)
    name = models.CharField(max_length=100)
    format = models.CharField(max_length=8, choices=Format, default=Format.GENERIC)
    encrypted_url = models.TextField(editable=False)
    url_hint = models.CharField(max_length=300, editable=False, help_text="Scheme and host.")
    encrypted_secret = models.TextField(editable=False)
    client_alerts = models.BooleanField(
        default=False,
        help_text="Also post the alerts the team's runs raise with run.alert().",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["entity", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "name"], name="alert_webhook_unique_name")
        ]

    def __str__(self):
        return self.name


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        THRESHOLD = "threshold", "Threshold on a metric"
        CHANGE = "change", "Change of a metric"
        BASELINE = "baseline", "Worse than a baseline"
        OUTLIER = "outlier", "Outlier among recent runs"
        NONFINITE = "nonfinite", "NaN or infinity in a metric"
        FAILED = "failed", "Run failed"
        CRASHED = "crashed", "Run crashed"
        STALLED = "stalled", "Run stalled"

    class Aggregate(models.TextChoices):
        LAST = "last", "Last value"
        MIN = "min", "Minimum"
        MAX = "max", "Maximum"
        MEAN = "mean", "Mean"

    class Comparison(models.TextChoices):
        GT = ">", "above"
        GTE = ">=", "at or above"
        LT = "<", "below"
        LTE = "<=", "at or below"

    class Mode(models.TextChoices):
        ABSOLUTE = "absolute", "Absolute"
        RELATIVE = "relative", "Relative (fraction of the reference)"

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    METRIC_KINDS = (Kind.THRESHOLD, Kind.CHANGE, Kind.BASELINE, Kind.OUTLIER, Kind.NONFINITE)
    PERIODIC_KINDS = (Kind.CRASHED, Kind.STALLED)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alert_rules")
    # URLs name a rule by a random key, never by its primary key.
    key = models.CharField(max_length=16, unique=True, default=_rule_key, editable=False)
    name = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=10, choices=Kind)
    metric = models.CharField(
        max_length=512, blank=True, help_text="The history key it watches (metric kinds)."
    )
    scope = models.TextField(
        blank=True, help_text='A runs query (e.g. tags has "nightly"); empty: every run.'
    )
    # threshold, change (the recent window), nonfinite: how many of the newest values.
    window = models.PositiveIntegerField(default=1, help_text="N: the newest values read.")
    # change: the window before the recent one.
    previous_window = models.PositiveIntegerField(
        default=1, help_text="M: values before the newest N (change)."
    )
    aggregate = models.CharField(max_length=4, choices=Aggregate, default=Aggregate.LAST)
    comparison = models.CharField(max_length=2, choices=Comparison, default=Comparison.GT)
    # threshold: the number compared with; change: the amount; outlier: the z-score.
    threshold = models.FloatField(null=True, blank=True)
    # change: the difference itself or as a fraction of the previous mean; baseline: tolerance.
    mode = models.CharField(max_length=8, choices=Mode, default=Mode.ABSOLUTE)
    # baseline; outlier: only the worse side (blank: both sides).
    direction = models.CharField(max_length=6, choices=Direction, blank=True)
    tolerance = models.FloatField(default=0, help_text="baseline: how much worse is allowed.")
    baseline_run = models.ForeignKey(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Or the run that logged the version holding `baseline_alias` in a registered model.
    baseline_portfolio = models.ForeignKey(
        ArtifactCollection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": ArtifactCollection.Kind.PORTFOLIO},
    )
    baseline_alias = models.CharField(max_length=128, blank=True)
    peer_runs = models.PositiveIntegerField(default=20, help_text="K: runs compared (outlier).")
    stall_minutes = models.PositiveIntegerField(null=True, blank=True)

    class StallSignal(models.TextChoices):
        HEARTBEAT = "heartbeat", "No heartbeat (the process is gone or hung)"
        HISTORY = "history", "No new history (the process lives, the training does not move)"

    stall_signal = models.CharField(
        max_length=9, choices=StallSignal, default=StallSignal.HEARTBEAT
    )
    cooldown = models.PositiveIntegerField(
        default=3600, help_text="Seconds before the rule may fire again for the same run."
    )
    muted = models.BooleanField(default=False)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # Where its alerts go: the creator (email, the bell) while a member, and team webhooks.
    notify_email = models.BooleanField(default=True)
    notify_in_app = models.BooleanField(default=True)
    webhooks = models.ManyToManyField(Webhook, blank=True, related_name="rules")

    class Meta:
        ordering = ["project", "name", "id"]
        indexes = [models.Index(fields=["project", "kind"], name="alert_rule_project_kind")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # A rule whose scope cannot be compiled would fail on every chunk: never store one.
        self.clean_scope()
        super().save(*args, **kwargs)

    def is_active(self, now=None) -> bool:
        return not self.muted and (
            self.snoozed_until is None or self.snoozed_until <= (now or timezone.now())
        )

    @property
    def cooldown_delta(self) -> timedelta:
        return timedelta(seconds=self.cooldown)

    def scope_q(self, *, probe: bool = False) -> models.Q:
        """The scope as a condition on runs, for a set of the project's runs or (`probe`) to
        test a few given runs; QueryError if it cannot be answered."""
        return to_q(parsed_scope(self.scope), project=None if probe else self.project_id)

    def clean_scope(self) -> None:
        try:
            to_q(parse_text(self.scope))
        except QueryError as error:
            where = f" (at character {error.column})" if error.column else ""
            raise ValidationError({"scope": f"{error}{where}"}) from None

    def clean(self):
        self.clean_scope()
        errors = {}
        Kind = self.Kind
        if self.kind in self.METRIC_KINDS and not self.metric:
            errors["metric"] = "This kind of rule watches a metric: name it."
        if self.kind in (Kind.THRESHOLD, Kind.CHANGE, Kind.OUTLIER) and self.threshold is None:
            errors["threshold"] = {
                Kind.THRESHOLD: "Give the number the value is compared with.",
                Kind.CHANGE: "Give the amount of change that fires.",
                Kind.OUTLIER: "Give the z-score that fires (e.g. 3).",
            }[self.kind]
        if not 1 <= self.window <= MAX_WINDOW:
            errors["window"] = f"Read from 1 to {MAX_WINDOW} values."
        if self.kind == Kind.CHANGE and not 1 <= self.previous_window <= MAX_WINDOW:
            errors["previous_window"] = f"Compare with 1 to {MAX_WINDOW} values."
        if self.kind == Kind.OUTLIER and not 2 <= self.peer_runs <= MAX_PEER_RUNS:
            errors["peer_runs"] = f"Compare with 2 to {MAX_PEER_RUNS} runs."
        if self.kind == Kind.OUTLIER and self.threshold is not None and self.threshold <= 0:
            errors["threshold"] = "A z-score threshold is above 0."
        if self.kind == Kind.BASELINE:
            self._clean_baseline(errors)
        if self.kind == Kind.STALLED and not self.stall_minutes:
            errors["stall_minutes"] = "Give the quiet minutes that make a stall."
        if self.tolerance < 0:
            errors["tolerance"] = "A tolerance is 0 or more."
        if errors:
            raise ValidationError(errors)

    def _clean_baseline(self, errors: dict) -> None:
        by_run = self.baseline_run_id is not None
        by_alias = self.baseline_portfolio_id is not None or bool(self.baseline_alias)
        if by_run == by_alias:
            errors["baseline_run"] = (
                "Choose a baseline run, or a registered model and an alias, not both."
            )
        elif by_alias and not (self.baseline_portfolio_id and self.baseline_alias):
            errors["baseline_alias"] = "Give both the registered model and its alias."
        if not self.direction:
            errors["direction"] = "Say whether higher or lower is better."
        if by_run and self.baseline_run.project_id != self.project_id:
            errors["baseline_run"] = "The baseline run must be in the rule's project."
        if (
            self.baseline_portfolio_id
            and self.baseline_portfolio.project.entity_id != self.project.entity_id
        ):
            errors["baseline_portfolio"] = "Choose a registered model of the project's team."


class RuleRunState(models.Model):
    """When a rule last fired for a run: the lock that makes it fire at most once per cooldown
    (and once per failure, crash or stall)."""

    pk = models.CompositePrimaryKey("rule", "run")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    last_fired_at = models.DateTimeField()


class AlertEvent(models.Model):
    """An alert that fired: from a rule, or raised by the run's code (`run.alert()`, kept on
    the run as `client_alert`); the run, the value that fired it and what it says. Kept when
    its rule is deleted."""

    class Level(models.TextChoices):
        INFO = "INFO", "Info"
        WARN = "WARN", "Warning"
        ERROR = "ERROR", "Error"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alert_events")
    rule = models.ForeignKey(
        AlertRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    # The rule's name when it fired: what the history shows once the rule is deleted.
    rule_name = models.CharField(max_length=255, blank=True)
    client_alert = models.OneToOneField(
        ClientAlert, on_delete=models.CASCADE, null=True, blank=True, related_name="event"
    )
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="alert_events")
    level = models.CharField(max_length=5, choices=Level, default=Level.WARN)
    value = models.FloatField(null=True, blank=True)
    message = models.TextField()
    # run.alert()'s text; a rule's message says it all.
    detail = models.TextField(blank=True)
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-fired_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-fired_at"], name="alert_event_project_recent"),
            models.Index(fields=["rule", "-fired_at"], name="alert_event_rule_recent"),
            models.Index(fields=["run", "-fired_at"], name="alert_event_run_recent"),
        ]

    def __str__(self):
        return self.message

    @property
    def source_name(self) -> str:
        return "run.alert()" if self.client_alert_id else self.rule_name


class AlertDelivery(models.Model):
    """One way an alert reaches someone, and what became of it: the delivery log. Made with
    the alert, in its transaction; a task sends it once that commits and records the outcome."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"
        # A notification under the bell of `user`: sent when made, read when they open it.
        IN_APP = "in_app", "In-app"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel)
    # Who it is for, when it is a person (email, in-app).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    webhook = models.ForeignKey(
        Webhook, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    # Where it goes: an email address, a webhook's name and host. Never a secret.
    target = models.CharField(max_length=2048, blank=True)
    status = models.CharField(max_length=8, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "alert deliveries"
        indexes = [
            # The bell: a reader's unread notifications, and their newest.
            models.Index(
                fields=["user", "channel", "read_at", "-created_at"], name="alert_delivery_inbox"
            )
        ]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.target}: {self.get_status_display()}"
