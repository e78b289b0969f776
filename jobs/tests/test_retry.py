"""Deliveries that fail for a passing reason are tried again later, with a growing wait, and
given up after DELIVERY_MAX_ATTEMPTS with an error in the log."""

import logging
import smtplib
from datetime import timedelta

import pytest
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from teamsite.lib.emails import send_email


class FlakyEmailBackend(EmailBackend):
    """Django's test outbox behind a server that fails the first `failures` sends."""

    failures = 0
    error: Exception = ConnectionRefusedError("the mail server is away")

    def send_messages(self, messages):
        if FlakyEmailBackend.failures:
            FlakyEmailBackend.failures -= 1
            raise FlakyEmailBackend.error
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FlakyEmailBackend"}}
    settings.DELIVERY_RETRY_DELAY = 30
    settings.DELIVERY_MAX_ATTEMPTS = 3
    yield FlakyEmailBackend
    FlakyEmailBackend.failures = 0
    FlakyEmailBackend.error = ConnectionRefusedError("the mail server is away")


def enqueue_email():
    send_email.enqueue(to=["dana@example.com"], subject="Hello", text="Hi", html="<p>Hi</p>")


def run_worker_batch():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--no-periodic-jobs")


def waiting():
    return DBTaskResult.objects.filter(status="READY")


def test_a_failed_email_is_retried_later_with_a_growing_wait_then_sent(
    transactional_db, database_tasks, flaky_mail, mailoutbox
):
    flaky_mail.failures = 2
    enqueue_email()

    delays = []
    for _ in range(2):
        before = timezone.now()
        run_worker_batch()
        # The retry is not run at once: it waits in the database for its time.
        retry = waiting().get()
        delays.append(retry.run_after - before)
        assert mailoutbox == []
        retry.run_after = timezone.now()
        retry.save(update_fields=["run_after"])
    run_worker_batch()

    assert [message.subject for message in mailoutbox] == ["Hello"]
    assert timedelta(seconds=30) <= delays[0] < timedelta(seconds=40)
    assert timedelta(seconds=60) <= delays[1] < timedelta(seconds=70)
    attempts = DBTaskResult.objects.order_by("enqueued_at")
    assert [task.status for task in attempts] == ["FAILED", "FAILED", "SUCCESSFUL"]
    assert [task.args_kwargs["kwargs"].get("attempt", 1) for task in attempts] == [1, 2, 3]
    assert "ConnectionRefusedError" in attempts[0].exception_class_path


def test_a_delivery_is_given_up_after_the_last_attempt_with_an_error_logged(
    transactional_db, database_tasks, flaky_mail, mailoutbox, caplog
):
    flaky_mail.failures = 100
    enqueue_email()

    with caplog.at_level(logging.WARNING, logger="jobs.retry"):
        for _ in range(5):
            run_worker_batch()
            waiting().update(run_after=timezone.now())

    assert mailoutbox == []
    assert DBTaskResult.objects.count() == 3
    assert not waiting().exists()
    ours = [record for record in caplog.records if record.name == "jobs.retry"]
    assert [record.levelno for record in ours] == [logging.WARNING, logging.WARNING, logging.ERROR]
    assert "send_email failed 3 times, giving up" in ours[-1].getMessage()


def test_a_refused_recipient_is_not_retried(
    transactional_db, database_tasks, flaky_mail, mailoutbox
):
    flaky_mail.failures = 1
    flaky_mail.error = smtplib.SMTPRecipientsRefused({"dana@example.com": (550, b"No such user")})
    enqueue_email()

    run_worker_batch()

    assert DBTaskResult.objects.get().status == "FAILED"
    assert mailoutbox == []


def test_in_development_a_retry_runs_at_once(db, flaky_mail, mailoutbox):
    # The immediate backend cannot defer a task: the retries follow one another.
    flaky_mail.failures = 2

    enqueue_email()

    assert [message.subject for message in mailoutbox] == ["Hello"]


def test_an_email_task_keeps_no_message_once_its_attempt_ends(
    transactional_db, database_tasks, flaky_mail, mailoutbox
):
    # An email's text holds sign-in and invitation links: it stays in the database only while
    # it waits to be sent.
    flaky_mail.failures = 1
    enqueue_email()
    run_worker_batch()

    failed, waiting_retry = DBTaskResult.objects.order_by("enqueued_at")
    assert failed.status == "FAILED"
    assert failed.args_kwargs == {"args": [], "kwargs": {"attempt": 1}}
    assert waiting_retry.args_kwargs["kwargs"]["text"] == "Hi"

    waiting_retry.run_after = timezone.now()
    waiting_retry.save(update_fields=["run_after"])
    run_worker_batch()

    waiting_retry.refresh_from_db()
    assert [message.body for message in mailoutbox] == ["Hi"]
    assert waiting_retry.status == "SUCCESSFUL"
    assert waiting_retry.args_kwargs == {"args": [], "kwargs": {"attempt": 2}}
