import json
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.tests.conftest import database_tasks  # noqa: F401 (tasks wait for a worker)
from jobs.tests.test_retry import flaky_mail  # noqa: F401 (a mail server that fails at will)
from runs.ingest import apply_file_stream, parse_file_stream
from runs.models import Run
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def make_run(project, alice):
    def make(**fields):
        fields.setdefault("state", Run.State.RUNNING)
        fields.setdefault("heartbeat_at", timezone.now())
        fields.setdefault("project", project)
        return RunFactory(author=alice, **fields)

    return make


@pytest.fixture
def run(make_run):
    return make_run()


@pytest.fixture
def log():
    """log(run, [values], key="loss"): stream values of one metric as the client does (NaN and
    infinities as its JSON writes them), steps following the run's last; returns the run."""

    def log(run, values, key="loss", **extra):
        start = run.history_line_count
        lines = [json.dumps({"_step": start + i, key: value}) for i, value in enumerate(values)]
        payload = {"files": {"wandb-history.jsonl": {"offset": start, "content": lines}}}
        apply_file_stream(run, parse_file_stream({**payload, **extra}))
        run.refresh_from_db()
        return run

    return log


@pytest.fixture
def later():
    """A time `minutes` from now."""
    return lambda minutes: timezone.now() + timedelta(minutes=minutes)
