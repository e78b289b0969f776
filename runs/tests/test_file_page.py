"""A run file's page: who may see it, and what it shows (highlighted text, plain text, the start
of a long file, a note for a binary file, an image).

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in open-team.
"""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse

from runs import file_preview
from runs.models import RunFile
from runs.tracking import run_file_store
from teamsite.lib.highlight import stylesheet
from tests.factories import ProjectFactory, RunFactory

PYTHON = b"import os\n\n\ndef main():\n    print(os.getcwd())\n"


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    return RunFactory(project=project, run_id="a6opolcx", author=alice)


@pytest.fixture
def public_run(public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="bert", visibility="public")
    return RunFactory(project=project, run_id="p7ublic0", author=alice)


def store(run, name, data):
    return run_file_store(RunFile.objects.create(run=run, name=name), io.BytesIO(data))


def file_url(run, name, view="runs:file"):
    return reverse(view, args=[run.project.entity.name, run.project.name, run.run_id, name])


def page(client, run, name):
    response = client.get(file_url(run, name))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("bob", 200), ("charlie", 404), (None, 404)]
)
def test_a_private_run_file_is_seen_by_team_members_only(client, request, run, who, status):
    store(run, "train.py", PYTHON)
    if who:
        client.force_login(request.getfixturevalue(who))

    assert client.get(file_url(run, "train.py")).status_code == status


@pytest.mark.parametrize("who", ["charlie", None])
def test_a_public_run_file_is_seen_by_anyone(client, request, public_run, who):
    store(public_run, "train.py", PYTHON)
    if who:
        client.force_login(request.getfixturevalue(who))

    assert 'class="kn"' in page(client, public_run, "train.py")


def test_the_run_page_links_each_file_to_its_page_and_the_page_to_the_download(client, bob, run):
    store(run, "train.py", PYTHON)
    client.force_login(bob)

    run_page = client.get(run.get_absolute_url()).content.decode()
    file_page = page(client, run, "train.py")
    download = client.get(file_url(run, "train.py", "runs:file_download"))

    assert file_url(run, "train.py") in run_page
    assert file_url(run, "train.py", "runs:file_download") in file_page
    assert b"".join(download.streaming_content) == PYTHON


def test_python_is_highlighted_with_line_numbers_and_classes_not_inline_styles(client, bob, run):
    store(run, "train.py", PYTHON)
    client.force_login(bob)

    html = page(client, run, "train.py")

    assert '<span class="kn">import</span>' in html
    assert '<span class="normal">5</span>' in html  # line numbers
    assert "css/highlight.css" in html
    assert " style=" not in html


def test_an_unknown_extension_is_plain_text(client, bob, run):
    store(run, "notes.weird-ext", b"import os\n")
    client.force_login(bob)

    html = page(client, run, "notes.weird-ext")

    assert "<code>import os\n</code>" in html
    assert 'class="kn"' not in html


def test_html_in_a_file_is_shown_as_text(client, bob, run):
    store(run, "page.html", b"<script>alert(1)</script>\n")
    store(run, "notes.txt", b"<script>alert(1)</script>\n")
    client.force_login(bob)

    for name in ("page.html", "notes.txt"):
        html = page(client, run, name)
        assert "<script>alert(1)" not in html
        assert "&lt;" in html and "alert" in html


def test_a_name_with_slashes_has_its_page(client, bob, run):
    store(run, "src/models/net.py", PYTHON)
    client.force_login(bob)

    url = file_url(run, "src/models/net.py")
    html = page(client, run, "src/models/net.py")

    assert url.endswith("/runs/a6opolcx/files/src/models/net.py")
    assert "src/models/net.py" in html and 'class="kn"' in html


def test_a_missing_file_is_404(client, bob, run):
    RunFile.objects.create(run=run, name="announced.txt")  # announced, never uploaded
    client.force_login(bob)

    assert client.get(file_url(run, "nothing.txt")).status_code == 404
    assert client.get(file_url(run, "announced.txt")).status_code == 404


def test_a_file_the_storage_lost_is_404(client, bob, run):
    default_storage.delete(store(run, "train.py", PYTHON).storage_name)
    client.force_login(bob)

    assert client.get(file_url(run, "train.py")).status_code == 404


def test_a_long_file_shows_its_first_lines(client, bob, run, monkeypatch):
    monkeypatch.setattr(file_preview, "PREVIEW_LINES", 50)
    store(run, "output.log", b"".join(b"line %d\n" % n for n in range(1, 201)))
    client.force_login(bob)

    html = page(client, run, "output.log")

    assert "Shown: the first 50 lines" in html and "download the whole file" in html
    assert "line 50\n" in html and "line 51" not in html


def test_a_large_file_shows_its_first_megabyte_in_whole_lines(client, bob, run):
    line = "é" * 99 + "\n"  # 199 bytes: the megabyte ends inside a character
    store(run, "big.txt", (line * 6000).encode())
    client.force_login(bob)

    html = page(client, run, "big.txt")

    shown = file_preview.PREVIEW_BYTES // len(line.encode())
    assert f"Shown: the first {shown} lines" in html


def test_a_short_file_has_no_truncation_note(client, bob, run):
    store(run, "train.py", PYTHON)
    client.force_login(bob)

    assert "Shown: the first" not in page(client, run, "train.py")


@pytest.mark.parametrize("data", [b"\x00\x01weights" * 100, b"caf\xe9 latin-1\n"])
def test_a_binary_file_is_not_previewed(client, bob, run, data):
    store(run, "weights.bin", data)
    client.force_login(bob)

    html = page(client, run, "weights.bin")

    assert f"Binary file, {len(data)} bytes" in html
    assert file_url(run, "weights.bin", "runs:file_download") in html
    assert "highlight" not in html.split("</head>")[1]


def test_an_image_is_shown_from_its_download(client, bob, run):
    store(run, "media/plot.PNG", b"\x89PNG\r\n\x1a\n\x00\x00")
    client.force_login(bob)

    html = page(client, run, "media/plot.PNG")

    assert f'<img src="{file_url(run, "media/plot.PNG", "runs:file_download")}"' in html


def test_an_svg_is_text_not_an_image(client, bob, run):
    store(run, "plot.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>')
    client.force_login(bob)

    html = page(client, run, "plot.svg")

    assert "<img" not in html and "&lt;script&gt;" in html


def test_the_committed_stylesheet_is_the_one_pygments_makes():
    committed = Path(settings.BASE_DIR, "static/css/highlight.css").read_text()

    assert committed == stylesheet()
