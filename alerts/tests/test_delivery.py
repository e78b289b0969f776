"""Alerts from real ingestion, delivered by email with a delivery log: file_stream through the
test client with an API key, the client's exit path, the periodic job, retries, recipients,
and what ingestion costs with and without rules."""

import json
from base64 import b64encode
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import AlertDelivery, AlertEvent, AlertRule
from alerts.webhooks import webhook_create
from api.tests.test_graphql import gql, node_id
from jobs.periodic import JOBS, run_due_jobs
from runs.models import Run
from teams.models import Membership
from teams.services import membership_remove
from tests.factories import RunFactory, api_key_for

from .factories import AlertRuleFactory
from .receiver import receiver_fixture  # noqa: F401 (the local receiver)
from .test_webhooks import verify

Kind = AlertRule.Kind


def basic(key):
    return {"Authorization": "Basic " + b64encode(f"api:{key}".encode()).decode()}


@pytest.fixture
def alice_key(alice):
    return api_key_for(alice)


@pytest.fixture
def stream(client, alice_key, django_capture_on_commit_callbacks):
    """stream(run, [values], key="loss", **extra): post one file_stream chunk as the client
    does and run what it enqueued on commit; returns the response."""

    def stream(run, values, key="loss", **extra):
        run.refresh_from_db()
        start = run.history_line_count
        lines = [json.dumps({"_step": start + i, key: value}) for i, value in enumerate(values)]
        payload = {"files": {"wandb-history.jsonl": {"offset": start, "content": lines}}}
        url = f"/files/{run.project.entity.name}/{run.project.name}/{run.run_id}/file_stream"
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url, json.dumps({**payload, **extra}), "application/json", headers=basic(alice_key)
            )
        assert response.status_code == 200, response.content
        return response

    return stream


def threshold_rule(project, **fields):
    fields.setdefault("created_by", project.entity.memberships.get(role="admin").user)
    fields.setdefault("threshold", 1.0)
    return AlertRuleFactory(project=project, kind=Kind.THRESHOLD, cooldown=3600, **fields)


def test_a_chunk_above_the_threshold_emails_the_rule_creator_once(
    project, run, stream, alice, mailoutbox, settings
):
    settings.SITE_URL = "https://teamsite.example"
    threshold_rule(project, name="loss too high")
    stream(run, [0.5, 0.7])
    assert mailoutbox == [] and not AlertEvent.objects.exists()

    stream(run, [0.9, 2.5])

    event = AlertEvent.objects.get()
    assert event.run == run and event.value == 2.5
    [message] = mailoutbox
    assert message.to == [alice.email]
    assert "loss too high" in message.subject
    assert "loss is 2.5, above 1" in message.body
    run_url = f"https://teamsite.example/{project.entity.name}/{project.name}/runs/{run.run_id}/"
    assert run_url in message.body
    assert run_url in message.alternatives[0][0]
    delivery = AlertDelivery.objects.get(channel="email")
    assert (delivery.event, delivery.channel, delivery.target, delivery.user) == (
        event,
        AlertDelivery.Channel.EMAIL,
        alice.email,
        alice,
    )
    assert delivery.status == AlertDelivery.Status.SENT
    assert delivery.attempts == 1 and delivery.sent_at is not None
    # And a notification under alice's bell, unread.
    notification = AlertDelivery.objects.get(channel="in_app")
    assert (notification.user, notification.status, notification.read_at) == (
        alice,
        AlertDelivery.Status.SENT,
        None,
    )

    # Still above, inside the cooldown: nothing more.
    stream(run, [3.0, 4.0])
    assert AlertEvent.objects.count() == 1 and len(mailoutbox) == 1
    assert AlertDelivery.objects.count() == 2


def test_a_project_without_rules_enqueues_nothing(project, run, stream, team, alice):
    # Rules elsewhere, muted, or watching only for stalls do not count.
    from tests.factories import ProjectFactory

    threshold_rule(ProjectFactory(entity=team, creator=alice, name="other"))
    threshold_rule(project, muted=True)
    AlertRuleFactory(project=project, kind=Kind.STALLED, stall_minutes=10, created_by=alice)
    with mock.patch("alerts.tasks.evaluate_chunk") as task:
        stream(run, [5.0])
        stream(run, [], complete=True, exitcode=1)
    task.enqueue.assert_not_called()
    task.using.assert_not_called()
    assert not AlertEvent.objects.exists()


def test_a_project_with_rules_enqueues_the_keys_the_chunk_touched(project, run, stream):
    threshold_rule(project, metric="accuracy")
    with mock.patch("alerts.tasks.evaluate_chunk") as task:
        task.get_backend.return_value.supports_defer = False
        stream(run, [0.5], key="accuracy")
    task.enqueue.assert_called_once()
    run_id, keys = task.enqueue.call_args.args
    assert run_id == run.pk and "accuracy" in keys


def test_chunks_in_quick_succession_share_one_deferred_evaluation(
    project, make_run, stream, database_tasks, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from alerts import tasks

    threshold_rule(project)
    run, other = make_run(), make_run()
    for values in ([0.1], [0.2], [5.0]):
        stream(run, values)
    stream(other, [0.3])
    stream(run, [0.4], key="accuracy")  # a key the waiting evaluation was not given

    waiting = DBTaskResult.objects.filter(task_path="alerts.tasks.evaluate_chunk")
    assert sorted(task.args_kwargs["args"][0] for task in waiting) == sorted(
        [run.pk, other.pk, run.pk]
    )
    assert all(task.run_after > timezone.now() for task in waiting)
    # The worker, a second later: the first evaluation of `run` sees the chunk that went over.
    for task in waiting.order_by("enqueued_at"):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.evaluate_chunk.call(*task.args_kwargs["args"])
    assert AlertEvent.objects.get().run == run


def request_queries(stream, run, size):
    with CaptureQueriesContext(connection) as queries:
        stream(run, [0.1] * size)
    return len(queries)


def test_file_stream_queries_do_not_grow_with_rules_or_chunk_size(project, make_run, stream):
    with mock.patch("alerts.tasks.evaluate_chunk"):
        stream(make_run(), [0.1])  # the metric's key is made once, by the first chunk
        without = [request_queries(stream, make_run(), size) for size in (10, 200)]
        threshold_rule(project, name="rule 0", threshold=100.0)
        one_rule = [request_queries(stream, make_run(), size) for size in (10, 200)]
        for number in range(1, 20):
            threshold_rule(project, name=f"rule {number}", threshold=100.0)
        twenty_rules = [request_queries(stream, make_run(), size) for size in (10, 200)]
    assert without[0] == without[1]
    # Watched: a fixed cost to enqueue the evaluation.
    assert one_rule == twenty_rules
    assert one_rule[0] == one_rule[1]


def test_a_run_that_exits_failed_through_the_client_fires_a_failed_rule(
    project, run, stream, alice, mailoutbox
):
    AlertRuleFactory(project=project, kind=Kind.FAILED, name="failures", created_by=alice)
    stream(run, [0.5])
    assert not AlertEvent.objects.exists()

    stream(run, [], complete=True, exitcode=3)

    event = AlertEvent.objects.get()
    assert "failed (exit code 3)" in event.message
    assert [message.to for message in mailoutbox] == [[alice.email]]
    assert AlertDelivery.objects.get(channel="email").status == AlertDelivery.Status.SENT


def test_a_run_marked_failed_by_update_state_fires_a_failed_rule(
    client, project, run, alice, alice_key, mailoutbox, django_capture_on_commit_callbacks
):
    AlertRuleFactory(project=project, kind=Kind.FAILED, created_by=alice)
    query = "mutation S($input: UpdateRunStateInput!) { updateRunState(input: $input) { success } }"
    variables = {"input": {"id": node_id("Run", run.pk), "state": "failed"}}
    with django_capture_on_commit_callbacks(execute=True):
        gql(client, alice_key, None, variables, query=query)
    assert Run.objects.get(pk=run.pk).state == Run.State.FAILED
    assert AlertEvent.objects.get().run == run
    assert len(mailoutbox) == 1


def test_the_periodic_job_reports_a_stalled_run(
    project, make_run, alice, mailoutbox, django_capture_on_commit_callbacks
):
    AlertRuleFactory(project=project, kind=Kind.STALLED, stall_minutes=10, created_by=alice)
    quiet = make_run(heartbeat_at=timezone.now() - timedelta(minutes=15))
    make_run()  # alive
    [job] = [job for job in JOBS if job.function == "alerts.tasks.evaluate_periodic_rules"]
    assert job.every == timedelta(minutes=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert run_due_jobs(jobs=[job]) == [job.name]
    with django_capture_on_commit_callbacks(execute=True):
        run_due_jobs(jobs=[job], now=timezone.now() + timedelta(minutes=1))

    event = AlertEvent.objects.get()
    assert event.run == quiet and "stalled" in event.message
    assert len(mailoutbox) == 1


def test_a_failing_email_is_retried_and_its_errors_recorded(
    project,
    run,
    stream,
    flaky_mail,
    mailoutbox,
):
    # The immediate backend retries at once; the database backend waits (jobs/tests).
    threshold_rule(project)
    flaky_mail.failures = 1
    stream(run, [5.0])
    delivery = AlertDelivery.objects.get(channel="email")
    assert delivery.status == AlertDelivery.Status.SENT
    assert delivery.attempts == 2
    assert "ConnectionRefusedError: the mail server is away" in delivery.last_error
    assert len(mailoutbox) == 1


def test_an_email_that_keeps_failing_is_marked_failed(
    project,
    make_run,
    stream,
    flaky_mail,
    mailoutbox,
):
    threshold_rule(project)
    flaky_mail.failures = 100
    stream(make_run(), [5.0])
    delivery = AlertDelivery.objects.get(channel="email")
    assert delivery.status == AlertDelivery.Status.FAILED
    assert delivery.attempts == 3  # DELIVERY_MAX_ATTEMPTS in flaky_mail
    assert "ConnectionRefusedError" in delivery.last_error
    assert delivery.sent_at is None and mailoutbox == []


def test_a_rule_creator_who_left_the_team_gets_nothing(team, project, run, stream, bob, mailoutbox):
    threshold_rule(project, created_by=bob)
    membership_remove(membership=Membership.objects.get(entity=team, user=bob))

    stream(run, [5.0])

    assert AlertEvent.objects.count() == 1  # still recorded and shown on the project
    assert not AlertDelivery.objects.exists()
    assert mailoutbox == []


def test_a_run_deleted_before_the_task_runs_is_skipped(project, alice):
    from alerts.tasks import evaluate_chunk

    run = RunFactory(project=project, author=alice)
    run_id = run.pk
    run.delete()
    assert evaluate_chunk.call(run_id, ["loss"]) == 0


# Webhooks, end to end: the chunk that crosses the threshold, the rule's webhook, a receiver.


def test_a_chunk_that_fires_a_rule_posts_to_its_webhook_and_not_to_others(
    project, run, stream, alice, team, receiver, mailoutbox
):
    chosen, secret = webhook_create(
        entity=team, name="ops", url=receiver.url + "/ops", format="generic", actor=alice
    )
    webhook_create(
        entity=team, name="idle", url=receiver.url + "/idle", format="slack", actor=alice
    )
    rule = threshold_rule(project, name="loss too high", notify_email=False)
    rule.webhooks.set([chosen])

    stream(run, [0.5, 2.5])

    [request] = receiver.requests
    assert request.path == "/ops"
    assert verify(secret, request.headers["Teamsite-Signature"], request.body)
    payload = json.loads(request.body)
    assert payload["rule"]["name"] == "loss too high" and payload["run"]["id"] == run.run_id
    assert payload["alert"]["value"] == 2.5
    event = AlertEvent.objects.get()
    channels = sorted((d.channel, d.status) for d in event.deliveries.all())
    assert channels == [("in_app", "sent"), ("webhook", "sent")]
    assert mailoutbox == []  # the rule asked for no email


def test_run_alert_posts_to_the_webhooks_that_take_the_runs_own_alerts(
    client, project, run, alice, alice_key, team, receiver, django_capture_on_commit_callbacks
):
    _takes, secret = webhook_create(
        entity=team,
        name="runs",
        url=receiver.url + "/runs",
        format="generic",
        client_alerts=True,
        actor=alice,
    )
    webhook_create(
        entity=team, name="rules only", url=receiver.url + "/rules", format="generic", actor=alice
    )
    variables = {
        "entityName": project.entity.name,
        "projectName": project.name,
        "runName": run.run_id,
        "title": "Loss diverged",
        "text": "nan at step 40",
        "severity": "ERROR",
        "waitDuration": 60,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = gql(client, alice_key, "NotifyScriptableRunAlert", variables)
    assert response.status_code == 200, response.content

    [request] = receiver.requests
    assert request.path == "/runs"
    assert verify(secret, request.headers["Teamsite-Signature"], request.body)
    payload = json.loads(request.body)
    assert payload["source"] == "run.alert()" and payload["rule"] is None
    assert (payload["alert"]["message"], payload["alert"]["level"]) == ("Loss diverged", "ERROR")
