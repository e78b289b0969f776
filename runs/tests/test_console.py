"""One logged console line is one line on the run page: no blank line between lines, whether
or not the client kept the line's own newline."""

import importlib
import re
from datetime import UTC, datetime

import pytest
from django.apps import apps

from runs.ingest import CONSOLE_FILE
from runs.models import ConsoleLine
from runs.tests.test_run_sections import login, send, url
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    run = RunFactory(project=project, author=alice, run_id="talky")
    send(run, CONSOLE_FILE, ["Epoch 1: loss 0.9", "Epoch 2: loss 0.5\n", "Epoch 3: loss 0.2\r\n"])
    return run


def console_block(html):
    return re.search(r'<div id="console-lines".*?<pre>(.*?)</pre>', html, re.S).group(1)


@pytest.mark.parametrize("section", ["runs:detail", "runs:console"])
def test_console_lines_are_single_spaced(client, bob, run, section):
    login(client, bob)

    block = console_block(client.get(url(section, run)).content.decode())

    assert "\n" not in block and "\r" not in block
    assert block == "".join(
        f'<span class="console-line"><span class="console-number">{n}</span>Epoch {n}: '
        f"loss {loss}</span>"
        for n, loss in [(1, "0.9"), (2, "0.5"), (3, "0.2")]
    )


# The client's prefix: "ERROR " for stderr, then the time the line was printed


@pytest.fixture
def client_run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="bert")
    run = RunFactory(project=project, author=alice, run_id="prefixed")
    send(
        run,
        CONSOLE_FILE,
        [
            "2026-12-03T18:51:53.025236 line one",
            "ERROR 2026-12-03T18:51:54.5 Traceback (most recent call last):",
            "2026-12-03T18:51:55 2026-01-01 is a date the program printed",
            "no prefix at all",
            "2026-13-45T99:00:00 not a time",
        ],
    )
    return run


def test_ingestion_keeps_the_printed_text_and_takes_apart_the_prefix(client_run):
    lines = ConsoleLine.objects.filter(run=client_run).order_by("line")

    assert [(line.text, line.stream, line.logged_at) for line in lines] == [
        ("line one", "stdout", datetime(2026, 12, 3, 18, 51, 53, 25236, tzinfo=UTC)),
        (
            "Traceback (most recent call last):",
            "stderr",
            datetime(2026, 12, 3, 18, 51, 54, 500000, tzinfo=UTC),
        ),
        (
            "2026-01-01 is a date the program printed",
            "stdout",
            datetime(2026, 12, 3, 18, 51, 55, tzinfo=UTC),
        ),
        ("no prefix at all", "stdout", None),
        ("2026-13-45T99:00:00 not a time", "stdout", None),
    ]


def test_a_rewritten_line_takes_the_stream_and_time_of_the_new_one(client_run):
    send(client_run, CONSOLE_FILE, ["ERROR 2026-12-03T19:00:00.000001 progress 100%"])

    line = ConsoleLine.objects.get(run=client_run, line=0)
    assert (line.text, line.stream) == ("progress 100%", "stderr")
    assert line.logged_at == datetime(2026, 12, 3, 19, 0, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize("section", ["runs:detail", "runs:console"])
def test_page_shows_lines_without_the_prefix_and_the_time_on_hover(
    client, bob, client_run, section
):
    login(client, bob)

    block = console_block(client.get(url(section, client_run)).content.decode())

    assert "2026-12-03T" not in block and "ERROR" not in block
    assert (
        '<span class="console-line" title="2026-12-03 18:51:53.025236 UTC">'
        '<span class="console-number">1</span>line one</span>'
    ) in block
    assert (
        '<span class="console-line console-stderr" title="2026-12-03 18:51:54.500000 UTC '
        '(stderr)"><span class="console-number">2</span>Traceback (most recent call last):</span>'
    ) in block
    assert '<span class="console-number">4</span>no prefix at all</span>' in block


def test_search_matches_the_printed_text_not_the_prefix(client, bob, client_run):
    login(client, bob)

    def found(query):
        html = client.get(url("runs:console", client_run), {"q": query}).content.decode()
        return re.findall(r'class="console-number">(\d+)<', console_block(html))

    assert found("traceback") == ["2"]
    assert found("ERROR") == []
    assert found("18:51") == []
    assert found("2026-") == ["3", "5"]


def test_the_migration_takes_apart_the_prefix_of_lines_stored_whole(run):
    ConsoleLine.objects.filter(run=run, line=0).update(text="ERROR 2026-12-03T18:51:54 oops")
    ConsoleLine.objects.filter(run=run, line=1).update(text="2026-12-03T18:51:55.25 ok\n")
    migration = importlib.import_module("runs.migrations.0005_console_stream_and_time")

    migration.split_prefixes(apps, None)

    lines = ConsoleLine.objects.filter(run=run).order_by("line")
    assert [(line.text, line.stream, line.logged_at) for line in lines] == [
        ("oops", "stderr", datetime(2026, 12, 3, 18, 51, 54, tzinfo=UTC)),
        ("ok\n", "stdout", datetime(2026, 12, 3, 18, 51, 55, 250000, tzinfo=UTC)),
        ("Epoch 3: loss 0.2\r\n", "stdout", None),
    ]
