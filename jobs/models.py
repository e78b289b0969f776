from django.db import models


class PeriodicJob(models.Model):
    """When a periodic job (jobs/periodic.py) runs next. A process runs a due job only after
    moving `next_run_at` forward in one conditional UPDATE: exactly one of several racing
    workers does, on PostgreSQL and on SQLite alike."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    # The last run's error, empty when it succeeded.
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
