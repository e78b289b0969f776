"""Tasks that deliver something to another system (an email, later a webhook) and are tried
again, later, when it fails for a passing reason."""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt `attempt` (1, 2, ...): DELIVERY_RETRY_DELAY, doubled
    after each failure."""
    return timedelta(seconds=settings.DELIVERY_RETRY_DELAY * 2 ** (attempt - 1))


def delivery_task(
    function=None,
    *,
    is_transient: Callable[[Exception], bool] = lambda error: isinstance(error, OSError),
    max_attempts: int | None = None,
    forget_arguments: bool = False,
    **task_options,
):
    """Like @task, for a delivery. When the function raises an error that `is_transient`
    accepts, the task enqueues itself again to run after `retry_delay(attempt)`, up to
    `max_attempts` (default DELIVERY_MAX_ATTEMPTS) in all; each failed attempt ends failed
    with its error, and the last one is also logged as an error. Other errors fail at once.
    With the database backend a retry waits in the database, whether a worker runs or not;
    the immediate backend (development) cannot defer and retries at once. The task takes a
    keyword `attempt` of its own. With `forget_arguments`, an attempt that ends (sent, or
    failed and handed to the next) leaves no arguments in its stored result: an email's text
    holds sign-in and invitation links."""

    def decorate(func):
        def run(context, *args, attempt=1, **kwargs):
            try:
                return func(*args, **kwargs)
            except Exception as error:
                if not is_transient(error):
                    raise
                limit = max_attempts or settings.DELIVERY_MAX_ATTEMPTS
                name = func.__qualname__
                if attempt >= limit:
                    logger.error("%s failed %d times, giving up: %r", name, attempt, error)
                    raise
                retry = context.task_result.task
                delay = retry_delay(attempt)
                if retry.get_backend().supports_defer:
                    retry = retry.using(run_after=timezone.now() + delay)
                else:
                    delay = timedelta(0)
                logger.warning(
                    "%s failed (attempt %d of %d): %r; trying again in %d s.",
                    name,
                    attempt,
                    limit,
                    error,
                    delay.total_seconds(),
                )
                retry.enqueue(*args, attempt=attempt + 1, **kwargs)
                # This attempt's result stays failed, with its error, beside the next one.
                raise
            finally:
                if forget_arguments:
                    _forget_arguments(context.task_result, attempt)

        # The task is found again by this name (module and qualified name). Not
        # functools.wraps: its __wrapped__ would hide the `context` argument the framework checks.
        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
            setattr(run, attribute, getattr(func, attribute))
        return task(takes_context=True, **task_options)(run)

    return decorate(function) if function else decorate


def _forget_arguments(task_result, attempt: int) -> None:
    # Only the database backend keeps results; the worker's own saves of the result name
    # their fields and leave these alone. Running again after a killed worker needs the
    # arguments, and a killed worker never gets here.
    if isinstance(task_result.task.get_backend(), DatabaseBackend):
        DBTaskResult.objects.filter(pk=task_result.id).update(
            args_kwargs={"args": [], "kwargs": {"attempt": attempt}}
        )
