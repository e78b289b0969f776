"""`run.alert()` from a run's code goes through the alerts' delivery: the project's alert
history, emails to the run's author and the members who asked for the team's, the author's
bell, and a worker that sends each delivery from its id."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from alerts.models import AlertDelivery, AlertEvent
from alerts.services import client_alert_raise
from runs.models import Alert
from tests.factories import RunFactory


@pytest.fixture
def run(project, alice):
    return RunFactory(project=project, run_id="a6opolcx", name="bold-sun-7", author=alice)


def raise_alert(actor, run, **fields):
    fields = {"title": "Loss diverged", "text": "nan", "level": "ERROR", **fields}
    return client_alert_raise(actor=actor, run=run, **fields)


def run_worker_batch():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--no-periodic-jobs")


def test_the_email_goes_to_the_author_and_opted_in_members_one_each(
    django_capture_on_commit_callbacks, alice, bob, charlie, team, run, membership_of
):
    membership = membership_of(team, bob)
    membership.alert_emails = True
    membership.save()

    with django_capture_on_commit_callbacks(execute=True):
        event = raise_alert(alice, run)

    assert sorted(message.to[0] for message in mail.outbox) == sorted([alice.email, bob.email])
    assert all(len(message.to) == 1 for message in mail.outbox)
    message = mail.outbox[0]
    assert message.subject.startswith("[Error] Loss diverged")
    assert run.get_absolute_url() in message.body and "nan" in message.body
    assert "you logged the run" in message.body
    assert Alert.objects.get().notified and event.client_alert == Alert.objects.get()
    # Only the author gets it under the bell: the others asked for emails.
    in_app = AlertDelivery.objects.filter(channel=AlertDelivery.Channel.IN_APP)
    assert [delivery.user for delivery in in_app] == [alice]


def test_a_removed_author_gets_nothing(
    django_capture_on_commit_callbacks, alice, bob, team, project
):
    run = RunFactory(project=project, author=bob)
    team.memberships.filter(user=bob).delete()

    with django_capture_on_commit_callbacks(execute=True):
        event = raise_alert(alice, run)

    assert mail.outbox == [] and not event.deliveries.exists()


def test_a_repeat_within_the_wait_is_kept_on_the_run_only(
    django_capture_on_commit_callbacks, alice, run
):
    with django_capture_on_commit_callbacks(execute=True):
        first = raise_alert(alice, run, wait=timedelta(minutes=5))
        again = raise_alert(alice, run, wait=timedelta(minutes=5))

    assert first is not None and again is None
    assert Alert.objects.count() == 2 and AlertEvent.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_worker_emails_an_alert_from_its_delivery_id(
    transactional_db, database_tasks, alice, run
):
    event = raise_alert(alice, run)

    # The request stores the alert and its deliveries; the task carries an id only.
    delivery = event.deliveries.get(channel=AlertDelivery.Channel.EMAIL)
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["kwargs"] == {"delivery_id": delivery.pk}
    assert mail.outbox == []
    run_worker_batch()

    assert [message.to for message in mail.outbox] == [[alice.email]]
    assert "Loss diverged" in mail.outbox[0].subject
    delivery.refresh_from_db()
    assert delivery.status == AlertDelivery.Status.SENT


def test_an_alert_deleted_before_the_worker_runs_is_not_emailed(
    transactional_db, database_tasks, alice, run
):
    raise_alert(alice, run)
    run.delete()

    run_worker_batch()

    assert mail.outbox == []
    task = DBTaskResult.objects.get()
    assert (task.status, task.return_value) == ("SUCCESSFUL", "skipped")
