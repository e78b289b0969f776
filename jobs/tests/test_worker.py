"""Tasks enqueued on commit wait in the database for `manage.py db_worker`, a real process
here, and survive the worker's restart."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from teamsite.lib.emails import send_email

BASE_DIR = Path(settings.BASE_DIR)


def database_url() -> str:
    """The test database, for a worker in another process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(output: Path) -> subprocess.Popen:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"EMAIL_HOST", "DEBUG", "REDIS_URL"}
    }
    env.update(TASKS_BACKEND="database", DATABASE_URL=database_url(), PYTHONUNBUFFERED="1")
    command = [sys.executable, "manage.py", "db_worker"]
    options = ["--interval", "0.2", "--no-startup-delay", "--no-reload", "--no-periodic-jobs"]
    with output.open("ab") as log:
        return subprocess.Popen(
            [*command, *options],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def stop(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=20)


def test_a_task_enqueued_in_a_transaction_that_rolls_back_never_runs(db, mailoutbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        _enqueue_email("Rolled back")
        raise RuntimeError("the request failed")

    assert mailoutbox == []
    assert not DBTaskResult.objects.exists()


def test_a_task_enqueued_on_commit_runs_after_the_commit(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _enqueue_email("Kept")
        assert mailoutbox == []  # nothing is sent before the commit

    assert len(callbacks) == 1
    assert [message.to for message in mailoutbox] == [["dana@example.com"]]


def test_in_production_a_task_waits_in_the_database_until_the_commit(
    transactional_db, database_tasks
):
    with transaction.atomic():
        _enqueue_email("Waiting")
        assert not DBTaskResult.objects.exists()

    task = DBTaskResult.objects.get()
    assert task.status == "READY"
    assert task.task_path == "teamsite.lib.emails.send_email"
    assert task.args_kwargs["kwargs"]["to"] == ["dana@example.com"]


@pytest.mark.skipif(sys.platform == "win32", reason="signals")
def test_a_task_survives_a_worker_restart_and_runs_once(transactional_db, database_tasks, tmp_path):
    subject = f"Survives a restart {time.time_ns()}"
    first_output, second_output = tmp_path / "first.log", tmp_path / "second.log"
    first = start_worker(first_output)
    try:
        assert wait_for(lambda: "Starting worker" in first_output.read_text()), (
            first_output.read_text()
        )
        # Due in a few seconds: the first worker is stopped before it may run it.
        with transaction.atomic():
            _enqueue_email(subject, run_after=timezone.now() + timezone.timedelta(seconds=4))
        task = DBTaskResult.objects.get()
        time.sleep(0.5)
        assert DBTaskResult.objects.get().status == "READY"
    finally:
        stop(first)
    assert first.returncode == 0

    # The worker is down when the task falls due: it waits in the database.
    time.sleep(4)
    task.refresh_from_db()
    assert task.status == "READY"

    second = start_worker(second_output)
    try:
        assert wait_for(lambda: DBTaskResult.objects.get().status == "SUCCESSFUL"), (
            second_output.read_text()
        )
        time.sleep(1)  # room for a second run, which must not happen
    finally:
        stop(second)

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert len(task.worker_ids) == 1
    assert DBTaskResult.objects.count() == 1
    # The console email backend prints the message on the worker's output: once, by the second.
    assert subject not in first_output.read_text()
    assert second_output.read_text().count(f"Subject: {subject}") == 1


def _enqueue_email(subject: str, run_after=None) -> None:
    task = send_email.using(run_after=run_after) if run_after else send_email
    transaction.on_commit(
        lambda: task.enqueue(to=["dana@example.com"], subject=subject, text="Hello", html="")
    )
