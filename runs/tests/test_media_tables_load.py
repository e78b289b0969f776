"""Reading a logged table file: what the client uploads, and what it must never do to the page."""

import io
import json

import pytest

from runs.media.tables import TableError, load_table
from runs.models import RunFile
from runs.tracking import run_file_store
from tests.factories import ProjectFactory, RunFactory


def upload(run, data: bytes) -> RunFile:
    file = RunFile.objects.create(run=run, name="media/table/scores_0_abc.table.json")
    return run_file_store(file, io.BytesIO(data))


@pytest.fixture
def run(team, alice):
    return RunFactory(project=ProjectFactory(entity=team, creator=alice), author=alice)


def test_a_table_reads_back_with_short_rows_padded(run):
    content = {"columns": ["id", 2], "data": [[1, "a"], [2]], "_type": "table"}

    table = load_table(upload(run, json.dumps(content).encode()))

    assert table.columns == ["id", "2"]
    assert table.rows == [[1, "a"], [2, None]]


@pytest.mark.parametrize(
    "data",
    [b"not json", b"[1, 2]", b'{"columns": ["a"]}', b'{"columns": ["a"], "data": [1]}'],
)
def test_a_file_that_is_no_table_says_why(run, data):
    with pytest.raises(TableError):
        load_table(upload(run, data))


def test_a_table_not_uploaded_yet_says_so(run):
    file = RunFile.objects.create(run=run, name="media/table/t.table.json")

    with pytest.raises(TableError, match="not been uploaded"):
        load_table(file)
