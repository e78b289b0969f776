"""One logged console line is one line on the run page: no blank line between lines, whether
or not the client kept the line's own newline."""

import re

import pytest

from runs.ingest import CONSOLE_FILE
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
