import re
import secrets
import zlib
from urllib.parse import urlencode

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from projects.models import Project

# Tableau 10: distinct, readable on white, and safe for the common colour blindnesses.
RUN_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#17becf",
)
# https://host/owner/repo(.git), git@host:owner/repo(.git), ssh://git@host/owner/repo(.git)
FORGE_REMOTE = re.compile(
    r"\A(?:https?://(?:[^@/]+@)?|ssh://git@|git@)(?P<host>[\w.-]+)[:/]"
    r"(?P<path>[\w.-]+/[\w./-]+?)/?\Z"
)
FORGE_COMMIT_PAGES = {
    "github.com": "commit",
    "gitlab.com": "-/commit",
    "bitbucket.org": "commits",
    "codeberg.org": "commit",
}


INDEXED_COLUMNS = ("config", "summary")


class RunQuerySet(models.QuerySet):
    """Keeps the index of config and summary values (RunValue) true through bulk writes."""

    def bulk_create(self, objs, *args, **kwargs):
        from .values import index_runs  # it builds on these models

        with transaction.atomic(savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            index_runs(created, new=not kwargs.get("update_conflicts"))
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        from .values import index_runs

        columns = [column for column in INDEXED_COLUMNS if column in fields]
        with transaction.atomic(savepoint=False):
            updated = super().bulk_update(objs, fields, *args, **kwargs)
            if columns:
                index_runs(objs, columns)
        return updated

    def update(self, **kwargs):
        columns = [column for column in INDEXED_COLUMNS if column in kwargs]
        if not columns and "project" not in kwargs:
            return super().update(**kwargs)
        from .values import index_runs, move_values

        with transaction.atomic(savepoint=False):
            runs = list(self.values_list("pk", "project_id"))
            updated = super().update(**kwargs)
            ids = [pk for pk, _ in runs]
            if "project" in kwargs:
                move_values(ids, getattr(kwargs["project"], "pk", kwargs["project"]))
            if not columns:
                return updated
            if any(hasattr(kwargs[column], "resolve_expression") for column in columns):
                changed = Run.objects.filter(pk__in=ids).only("pk", "project", *columns)
            else:  # the values written are the values to index
                values = {column: kwargs[column] for column in columns}
                changed = [Run(pk=pk, project_id=project, **values) for pk, project in runs]
            index_runs(changed, columns)
        return updated


# Runs not in the trash: what `Run.objects` reads, and the rows its indexes hold.
LIVE = models.Q(trashed_at__isnull=True)


class LiveRunManager(models.Manager.from_queryset(RunQuerySet)):
    """What the site shows and counts: runs in the trash are left out (`with_trashed` has
    them all)."""

    def get_queryset(self):
        return super().get_queryset().filter(LIVE)


class Run(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        CRASHED = "crashed", "Crashed"
        # Requeued (the client's run.update_state("pending")): waiting to be resumed.
        PENDING = "pending", "Pending"

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
    # Whose API key created the run: a team's service account keeps writing to the runs it
    # logged for a member, which its later requests (file_stream) do not name.
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
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
    # The client's wandb-metadata.json: command line, Python, host, hardware, git.
    metadata = models.JSONField(default=dict, blank=True)
    # Lines received on each file_stream file; the client resumes from these.
    history_line_count = models.PositiveIntegerField(default=0)
    # When the history last grew (a replayed chunk does not count): a run that still sends
    # heartbeats but logs nothing new has stalled.
    history_at = models.DateTimeField(null=True, blank=True)
    events_line_count = models.PositiveIntegerField(default=0)
    console_line_count = models.PositiveIntegerField(default=0)
    # In the project's trash since then, restorable until it is purged; empty when live.
    trashed_at = models.DateTimeField(null=True, blank=True)
    trashed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Put in the trash with its project (not on its own): restoring the project restores it.
    trashed_with_project = models.BooleanField(default=False)

    with_trashed = RunQuerySet.as_manager()
    objects = LiveRunManager()

    class Meta:
        default_manager_name = "objects"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "run_id"], name="run_id_unique_per_project"),
        ]
        # The site reads live runs only (`objects`): indexes of live runs alone let a count or
        # a page of the runs table be read from the index, without visiting each row to see
        # whether it is in the trash.
        indexes = [
            # trashed_at (always empty here) makes it cover a count on SQLite too, whose planner
            # otherwise reads each row to check the condition.
            models.Index(
                fields=["project", "created_at", "id", "trashed_at"],
                condition=LIVE,
                name="run_project_created",
            ),
            # Filters by state, and the check for quiet runs: one seek, however many run.
            models.Index(
                fields=["project", "state", "heartbeat_at"],
                condition=LIVE,
                name="run_project_state_beat",
            ),
            models.Index(fields=["project", "author"], condition=LIVE, name="run_project_author"),
            models.Index(fields=["project", "name", "id"], condition=LIVE, name="run_project_name"),
            models.Index(
                fields=["project", "runtime", "id"], condition=LIVE, name="run_project_runtime"
            ),
            models.Index(
                fields=["project", "trashed_at"],
                condition=models.Q(trashed_at__isnull=False),
                name="run_in_trash",
            ),
        ]

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        from .values import index_runs  # it builds on these models

        update_fields = kwargs.get("update_fields")
        indexed = INDEXED_COLUMNS
        if update_fields is not None:
            indexed = [column for column in indexed if column in update_fields]
        adding = self._state.adding
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            if indexed:
                index_runs([self], indexed, new=adding)

    def get_absolute_url(self):
        return reverse(
            "runs:detail", args=[self.project.entity.name, self.project.name, self.run_id]
        )

    @property
    def display_name(self):
        return self.name or self.run_id

    @property
    def color(self) -> str:
        """The run's colour in every chart and table: the same wherever it is shown."""
        # By primary key, which moving a run keeps: runs logged one after another differ.
        return RUN_COLORS[(self.pk or zlib.crc32(self.run_id.encode())) % len(RUN_COLORS)]

    @property
    def commit_url(self) -> str | None:
        """A link to the commit when the remote is on a forge Teamsite knows."""
        match = FORGE_REMOTE.match(self.git_remote or "")
        if not match or not self.git_commit:
            return None
        host, path = match["host"].lower(), match["path"].removesuffix(".git")
        page = FORGE_COMMIT_PAGES.get(host)
        return f"https://{host}/{path}/{page}/{self.git_commit}" if page else None


class MetricKey(models.Model):
    """A history, system-metrics, config or summary key, interned so each point or indexed
    value stores a small integer."""

    class Stream(models.IntegerChoices):
        HISTORY = 0, "History"
        EVENTS = 1, "System metrics"
        CONFIG = 2, "Config"
        SUMMARY = 3, "Summary"

    stream = models.PositiveSmallIntegerField(choices=Stream)
    name = models.CharField(max_length=512)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "name"], name="metric_key_unique"),
        ]

    def __str__(self):
        return self.name


class Point(models.Model):
    """One scalar a run logged: history rows are keyed by their `_step`, system-metric rows by
    their line number. The key is the row's identity, so a replayed line writes nothing, and a
    chart reads one metric of one run as a range scan of the primary key."""

    pk = models.CompositePrimaryKey("run", "key", "step")
    # The hottest table: no index beyond the primary key (which starts with the run), and no
    # database-level foreign keys, whose checks cost PostgreSQL more than the insert itself.
    # Ingestion holds the run's row lock while it writes; deleting a run deletes its points.
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    key = models.ForeignKey(
        MetricKey, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    step = models.BigIntegerField()
    # NULL stands for NaN, which SQLite cannot store as a REAL.
    value = models.FloatField(null=True)


class RichValue(models.Model):
    """A logged value that is not a number (text, histogram, table, media reference, a very
    large integer), kept as the JSON the client sent."""

    pk = models.CompositePrimaryKey("run", "key", "step")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.ForeignKey(MetricKey, on_delete=models.PROTECT, related_name="+", db_index=False)
    step = models.BigIntegerField()
    value = models.JSONField()


class RunKey(models.Model):
    """A key a run logged (history or system metrics): how many scalar and non-scalar values
    it holds and its first and last step. Ingestion keeps it as values arrive (a replayed value
    counts once), so listing a run's keys (historyKeys, each scan_history page) reads a few rows
    instead of scanning its points."""

    pk = models.CompositePrimaryKey("run", "key")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.ForeignKey(MetricKey, on_delete=models.PROTECT, related_name="+", db_index=False)
    points = models.PositiveBigIntegerField(default=0, help_text="Point rows")
    rich = models.PositiveBigIntegerField(default=0, help_text="RichValue rows")
    first_step = models.BigIntegerField()
    last_step = models.BigIntegerField()


class RunValue(models.Model):
    """One value of a run's config or summary, by the name the runs query language gives it
    (`lr`, `final.loss`): the index that filters, sorts and groups a project's runs by any key
    without reading their JSON. `runs.values` writes it whenever a config or summary changes
    and when runs move; it cascades with the run."""

    class Kind(models.IntegerChoices):
        # In the order runs sort by a key: numbers, text, true/false, then the rest.
        NUMBER = 0, "Number"
        STRING = 1, "Text"
        BOOLEAN = 2, "True/false"
        NULL = 3, "Null"
        OBJECT = 4, "Object"
        ARRAY = 5, "List"

    pk = models.CompositePrimaryKey("run", "key")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.ForeignKey(MetricKey, on_delete=models.PROTECT, related_name="+", db_index=False)
    # The run's project, repeated so that one index serves a project's runs by key and value.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.PositiveSmallIntegerField(choices=Kind)
    number = models.FloatField(null=True, help_text="Numbers, and true/false as 1/0")
    # NULL rather than "" for values that are not text: an index range of numbers then reads
    # (kind, number) with text IS NULL, and one of text (kind, text) with number IS NULL.
    text = models.CharField(  # noqa: DJ001
        max_length=400, null=True, help_text="Text, its first 400 characters"
    )

    class Meta:
        # One index per kind of value, each in the order runs sort by it (run breaking ties),
        # so that a page of a key's order is a range read without sorting.
        indexes = [
            models.Index(
                fields=["project", "key", "kind", "number", "run"], name="run_value_number"
            ),
            models.Index(fields=["project", "key", "kind", "text", "run"], name="run_value_text"),
        ]


class ConsoleLine(models.Model):
    """A line of the run's console output, by line number: a progress bar that rewrites its
    line replaces it. The client prefixes each line with the time it was printed, and stderr
    lines with "ERROR "; that prefix is kept here as `logged_at` and `stream`, and `text` is
    what the program printed."""

    class Stream(models.TextChoices):
        STDOUT = "stdout"
        STDERR = "stderr"

    pk = models.CompositePrimaryKey("run", "line")
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="console_lines", db_index=False
    )
    line = models.PositiveIntegerField()
    text = models.TextField()
    stream = models.CharField(max_length=6, choices=Stream.choices, default=Stream.STDOUT)
    logged_at = models.DateTimeField(null=True, blank=True)


class RunFile(models.Model):
    """A file the client uploaded for a run (metadata, requirements, config, summary, console
    output, code diff, media)."""

    thumbnail_folder = "thumbnails"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=1024)
    storage_name = models.CharField(max_length=1024, blank=True)
    size = models.BigIntegerField(null=True)
    md5 = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    uploaded_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="run_file_unique_name"),
        ]

    def __str__(self):
        return self.name


class Alert(models.Model):
    """`run.alert(...)`: stored on the run, and delivered like the alerts of rules unless the
    same title was delivered within the client's wait duration."""

    class Level(models.TextChoices):
        INFO = "INFO", "Info"
        WARN = "WARN", "Warning"
        ERROR = "ERROR", "Error"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="alerts")
    title = models.CharField(max_length=255)
    text = models.TextField(blank=True)
    level = models.CharField(max_length=5, choices=Level, default=Level.INFO)
    created_at = models.DateTimeField(default=timezone.now)
    notified = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["run", "title", "created_at"], name="alert_run_title")]

    def __str__(self):
        return self.title


class PointTile(models.Model):
    """The lowest and highest value of one metric of one run within a span of steps, at a few
    span widths, kept as points arrive: a chart of a million points reads a few thousand tiles.
    Minimum and maximum make a replayed point change nothing, and keep spikes visible."""

    WIDTHS = (16, 256, 4096)

    # Width before key: a run's metric names are read from its few widest tiles.
    pk = models.CompositePrimaryKey("run", "width", "key", "tile")
    # Written with every chunk, like Point: the primary key is its only index.
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    key = models.ForeignKey(
        MetricKey, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    width = models.PositiveIntegerField()
    tile = models.BigIntegerField(help_text="step // width")
    min_step = models.BigIntegerField()
    min_value = models.FloatField()
    max_step = models.BigIntegerField()
    max_value = models.FloatField()


class Workspace(models.Model):
    """A person's chart panels on a project page, in their order."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workspaces"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="workspaces")
    panels = models.JSONField(default=list, help_text="Metric keys, one chart each, in order.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="workspace_unique"),
        ]

    def __str__(self):
        return f"{self.user} on {self.project}"


def _saved_view_key():
    return secrets.token_urlsafe(9)


class SavedView(models.Model):
    """A named state of the runs table or the leaderboard of a project: the GET parameters of
    the page, replayed when it is opened. Shared views are seen by everyone who sees the
    project; private ones by their owner only."""

    class Kind(models.TextChoices):
        TABLE = "table", "Runs table"
        LEADERBOARD = "leaderboard", "Leaderboard"

    # URLs name a view by a random key, never by its primary key.
    key = models.CharField(max_length=16, unique=True, default=_saved_view_key, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="saved_views")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TABLE)
    shared = models.BooleanField(default=False, help_text="Seen by everyone who sees the project.")
    params = models.JSONField(default=list, help_text="The page's GET parameters, [name, value].")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "owner", "name"], name="saved_view_unique_name"
            ),
        ]

    def __str__(self):
        return f"{self.name} on {self.project}"

    def page_url(self) -> str:
        """The page with the saved parameters: the link the Views menu opens."""
        name = "runs:leaderboard" if self.kind == self.Kind.LEADERBOARD else "project"
        base = reverse(name, args=[self.project.entity.name, self.project.name])
        query = urlencode([(name, value) for name, value in self.params])
        return f"{base}?{query}" if query else base
