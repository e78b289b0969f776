"""Periodic jobs: claimed by one process per period however many look at once, run by every
db_worker without cron, and what they do (crashed runs, expired invitations, pruning)."""

import os
import subprocess
import sys
import threading
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jobs import periodic
from jobs.models import PeriodicJob
from runs.models import Run
from teams import services as team_services
from teams.models import Invitation, Role
from teamsite.lib.emails import send_email
from tests.factories import ProjectFactory, RunFactory

from .test_worker import database_url

RUNS = []


def count_a_run():
    RUNS.append(threading.get_ident())
    return len(RUNS)


def fail():
    raise RuntimeError("the job broke")


COUNTING = periodic.Job("counting", timedelta(minutes=5), f"{__name__}.count_a_run")


def test_two_processes_looking_at_once_run_a_due_job_once_per_period(transactional_db):
    RUNS.clear()
    now = timezone.now()
    start = threading.Barrier(4)
    claimed = []

    def look(at):
        try:
            start.wait()
            claimed.extend(periodic.run_due_jobs(now=at, jobs=[COUNTING]))
        finally:
            connection.close()

    threads = [threading.Thread(target=look, args=(now,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert claimed == ["counting"]
    assert len(RUNS) == 1
    # Not due again within the period; due once after it.
    assert periodic.run_due_jobs(now=now + timedelta(minutes=4), jobs=[COUNTING]) == []
    assert periodic.run_due_jobs(now=now + timedelta(minutes=5), jobs=[COUNTING]) == ["counting"]
    assert periodic.run_due_jobs(now=now + timedelta(minutes=5), jobs=[COUNTING]) == []
    assert len(RUNS) == 2
    job = PeriodicJob.objects.get(name="counting")
    assert job.next_run_at == now + timedelta(minutes=10)
    assert job.last_finished_at is not None
    assert job.last_error == ""


def test_two_cron_commands_at_once_run_each_job_once(transactional_db):
    env = {**os.environ, "DATABASE_URL": database_url()}
    env.pop("DEBUG", None)
    commands = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_periodic_jobs"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [command.communicate(timeout=60) for command in commands]

    assert [command.returncode for command in commands] == [0, 0], outputs
    ran = [
        name.strip()
        for out, _ in outputs
        for name in out.split(":", 1)[1].strip(" .\n").split(",")
        if name.strip() != "none due"
    ]
    assert sorted(ran) == sorted(job.name for job in periodic.JOBS)


def test_a_failing_job_is_recorded_and_the_others_still_run(db):
    RUNS.clear()
    failing = periodic.Job("failing", timedelta(minutes=5), f"{__name__}.fail")

    assert periodic.run_due_jobs(jobs=[failing, COUNTING]) == ["failing", "counting"]

    assert len(RUNS) == 1
    assert "the job broke" in PeriodicJob.objects.get(name="failing").last_error


def test_the_worker_marks_silent_runs_crashed_without_cron(
    transactional_db, database_tasks, alice, team
):
    project = ProjectFactory(entity=team, creator=alice)
    long_ago = timezone.now() - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT + 60)
    silent = RunFactory(project=project, state=Run.State.RUNNING, heartbeat_at=long_ago)
    alive = RunFactory(project=project, state=Run.State.RUNNING, heartbeat_at=timezone.now())

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")

    silent.refresh_from_db()
    alive.refresh_from_db()
    assert silent.state == Run.State.CRASHED
    assert alive.state == Run.State.RUNNING
    assert PeriodicJob.objects.filter(name="mark_crashed_runs").exists()


def test_invitations_are_deleted_some_days_after_they_expired(db, alice, team):
    def invite(email, expired_days_ago):
        invitation, _ = team_services.invitation_create(
            entity=team, inviter=alice, email=email, role=Role.MEMBER
        )
        invitation.expires_at = timezone.now() - timedelta(days=expired_days_ago)
        invitation.save(update_fields=["expires_at"])
        return invitation

    old = invite("old@example.com", settings.INVITATION_KEEP_DAYS + 1)
    recent = invite("recent@example.com", 1)  # its link still says "expired"
    pending, _ = team_services.invitation_create(
        entity=team, inviter=alice, email="new@example.com", role=Role.MEMBER
    )

    call_command("run_periodic_jobs")

    assert set(Invitation.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert not Invitation.objects.filter(pk=old.pk).exists()


def test_pruning_deletes_expired_cache_entries_sessions_and_old_task_results(db):
    cache.set("fresh", 1, timeout=60)
    cache.set("stale", 1, timeout=60)
    table = connection.ops.quote_name(settings.CACHES["default"]["LOCATION"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET expires = %s WHERE cache_key LIKE %s",
            [timezone.now() - timedelta(minutes=1), "%stale"],
        )
    expired_session = SessionStore()
    expired_session.set_expiry(-60)
    expired_session.create()
    live_session = SessionStore()
    live_session.create()
    old, recent, waiting = (
        DBTaskResult.objects.create(
            task_path="teamsite.lib.emails.send_email",
            args_kwargs={"args": [], "kwargs": {}},
            backend_name="default",
            run_after=timezone.now(),
            status=status,
            finished_at=finished_at,
        )
        for status, finished_at in [
            ("SUCCESSFUL", timezone.now() - timedelta(days=settings.TASK_RESULTS_KEEP_DAYS + 1)),
            ("FAILED", timezone.now() - timedelta(days=1)),
            ("READY", None),
        ]
    )

    assert periodic.run_due_jobs() == [job.name for job in periodic.JOBS]

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key FROM {table}")
        keys = [row[0] for row in cursor.fetchall()]
    assert any(key.endswith("fresh") for key in keys)
    assert not any(key.endswith("stale") for key in keys)
    assert list(Session.objects.values_list("session_key", flat=True)) == [live_session.session_key]
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not DBTaskResult.objects.filter(pk=old.pk).exists()


def test_a_task_abandoned_by_a_killed_worker_runs_again_once(
    transactional_db, database_tasks, mailoutbox
):
    def email(subject):
        result = send_email.enqueue(to=["dana@example.com"], subject=subject, text="Hi", html="")
        return DBTaskResult.objects.get(pk=result.id)

    # What a worker killed in the middle of a task leaves: the task RUNNING, for ever.
    abandoned, busy = email("Abandoned"), email("Busy")
    long_ago = timezone.now() - timedelta(seconds=settings.TASK_ABANDONED_AFTER + 60)
    for task, started_at in ((abandoned, long_ago), (busy, timezone.now())):
        task.claim("killed-worker")
        DBTaskResult.objects.filter(pk=task.pk).update(started_at=started_at)

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")

    assert [message.subject for message in mailoutbox] == ["Abandoned"]
    abandoned.refresh_from_db()
    busy.refresh_from_db()
    assert abandoned.status == "SUCCESSFUL"
    assert abandoned.worker_ids[0] == "killed-worker" and len(abandoned.worker_ids) == 2
    assert busy.status == "RUNNING"  # still within its time: maybe a worker is on it
