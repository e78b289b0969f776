"""Rows that have served their time: expired cache entries and sessions, old task results;
and tasks a worker abandoned."""

import logging
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


def prune_expired_cache_entries() -> int:
    """Django's database cache deletes expired rows only when it culls a full table."""
    deleted = 0
    for alias in settings.CACHES:
        cache = caches[alias]
        if not isinstance(cache, DatabaseCache):
            continue
        database = router.db_for_write(cache.cache_model_class)
        connection = connections[database]
        table = connection.ops.quote_name(cache._table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE {connection.ops.quote_name('expires')} < %s",
                [connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))],
            )
            deleted += cursor.rowcount
    return deleted


def prune_finished_task_results() -> int:
    """Finished tasks of the database backend, TASK_RESULTS_KEEP_DAYS after they finished."""
    cutoff = timezone.now() - timedelta(days=settings.TASK_RESULTS_KEEP_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


def prune_expired_sessions() -> None:
    # What `manage.py clearsessions` does.
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()


def prune_expired_rows() -> dict:
    prune_expired_sessions()
    return {
        "cache_entries": prune_expired_cache_entries(),
        "task_results": prune_finished_task_results(),
    }


def requeue_abandoned_tasks() -> int:
    """Tasks a worker took and never finished (it was killed, or its machine went away) run
    again: a task RUNNING for TASK_ABANDONED_AFTER seconds is made READY. Tasks are thus run
    at least once; the site's tasks are short, so a live one is never this old."""
    cutoff = timezone.now() - timedelta(seconds=settings.TASK_ABANDONED_AFTER)
    requeued = DBTaskResult.objects.running().filter(started_at__lt=cutoff).update(status="READY")
    if requeued:
        logger.warning("Requeued %d task(s) abandoned by a worker.", requeued)
    return requeued
