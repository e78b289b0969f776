import json

import pytest

from runs.ingest import apply_file_stream, parse_file_stream
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def make_run(project, alice):
    def make(**fields):
        fields.setdefault("project", project)
        return RunFactory(author=alice, **fields)

    return make


@pytest.fixture
def log():
    """log(run, {"loss": [values], ...}): stream metrics as the client does, steps 0, 1, ..."""

    def log(run, metrics: dict):
        length = max(len(values) for values in metrics.values())
        lines = [
            json.dumps({"_step": step, **{k: v[step] for k, v in metrics.items() if step < len(v)}})
            for step in range(length)
        ]
        payload = {"files": {"wandb-history.jsonl": {"offset": 0, "content": lines}}}
        apply_file_stream(run, parse_file_stream(payload))
        run.refresh_from_db()
        return run

    return log
