"""Media a run logged as files: audio and video play in the page, HTML shows in a sandboxed frame
served with a sandbox policy, plotly figures are drawn from their JSON, 3D objects, molecules and
bokeh plots are downloads with their format named. And the run summary's media values.

The values have the shape the wandb 0.31.0 client sends (checked with the real client in
api/tests/test_wandb_media.py)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.ingest import HISTORY_FILE
from runs.media.formats import FIGURE_MAX_BYTES, format_name
from runs.models import RunFile
from runs.tests.test_media import media_section, page_url, png, upload
from runs.tests.test_run_sections import login, send
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="studio")
    return RunFactory(project=project, author=alice, run_id="mixer")


def file_value(kind, path, **extra):
    return {"_type": kind, "path": path, "sha256": "0" * 64, "size": 10, **extra}


def log_file(run, key, kind, path, data=b"data", step=0, **extra):
    upload(run, path, data)
    send(run, HISTORY_FILE, [{"_step": step, key: file_value(kind, path, **extra)}])


def media_html(client, run):
    return media_section(client.get(run.get_absolute_url()).content.decode())


def test_audio_plays_from_the_run_file(client, bob, run):
    path = "media/audio/voice_0_abc.wav"
    log_file(run, "voice", "audio-file", path, sample_rate=16000, caption="hello")
    login(client, bob)

    html = media_html(client, run)

    download = page_url("runs:file_download", run, path)
    assert f'<audio controls preload="metadata" src="{download}"></audio>' in html
    assert "<figcaption>hello</figcaption>" in html


def test_a_list_of_audio_shows_each_clip(client, bob, run):
    clips = [file_value("audio-file", f"media/audio/a_0_{n}.wav") for n in "xy"]
    for clip in clips:
        upload(run, clip["path"], b"RIFF")
    value = {"_type": "audio", "count": 2, "audio": clips, "captions": ["one", "two"]}
    send(run, HISTORY_FILE, [{"_step": 0, "clips": value}])
    login(client, bob)

    html = media_html(client, run)

    assert html.count("<audio ") == 2 and "<figcaption>two</figcaption>" in html


@pytest.mark.parametrize(
    ("name", "element"),
    [("clip.mp4", "<video controls"), ("clip.webm", "<video controls"), ("clip.gif", "<img src=")],
)
def test_video_plays_or_shows_as_an_image(client, bob, run, name, element):
    path = f"media/videos/{name}"
    log_file(run, "rollout", "video-file", path, width=32, height=32)
    login(client, bob)

    html = media_html(client, run)

    assert f'{element}"{page_url("runs:file_download", run, path)}"' in html.replace(
        'preload="metadata" src=', ""
    ).replace("<video controls ", "<video controls")


def test_a_video_format_browsers_do_not_play_is_a_download(client, bob, run):
    log_file(run, "rollout", "video-file", "media/videos/clip.avi")
    login(client, bob)

    html = media_html(client, run)

    assert "<video" not in html and "Browsers do not play AVI video." in html
    assert page_url("runs:file_download", run, "media/videos/clip.avi") in html


# HTML


def test_logged_html_shows_in_a_sandboxed_frame_without_same_origin(client, bob, run):
    path = "media/html/page_0_abc.html"
    log_file(run, "page", "html-file", path, data=b"<h1>report</h1>")
    login(client, bob)

    html = media_html(client, run)

    frame = re.search(r"<iframe[^>]*>", html, re.S).group(0)
    assert 'sandbox="allow-scripts"' in frame and "allow-same-origin" not in frame
    assert f'src="{page_url("runs:media_html", run, path)}"' in frame
    assert 'referrerpolicy="no-referrer"' in frame


def test_the_html_is_served_with_a_sandbox_policy(client, bob, run):
    path = "media/html/page_0_abc.html"
    upload(run, path, b"<h1>report</h1><script>alert(1)</script>")
    login(client, bob)

    response = client.get(page_url("runs:media_html", run, path))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not response.get("Content-Disposition", "").startswith("attachment")
    policy = [part.strip() for part in response["Content-Security-Policy"].split(";")]
    # Scripts run in an origin of their own (never allow-same-origin) and may load nothing.
    assert policy[0] == "sandbox allow-scripts"
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert "script-src 'unsafe-inline'" in policy
    assert not any("http" in part or "connect-src" in part for part in policy)
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(response.streaming_content) == b"<h1>report</h1><script>alert(1)</script>"


@pytest.mark.parametrize(
    "name", ["media/images/pic.png", "media/html/missing.html", "media/html/announced.html"]
)
def test_only_uploaded_html_files_are_served_as_html(client, bob, run, name):
    upload(run, "media/images/pic.png", png())
    RunFile.objects.create(run=run, name="media/html/announced.html")
    login(client, bob)

    assert client.get(page_url("runs:media_html", run, name)).status_code == 404


@pytest.mark.parametrize(("who", "status"), [("bob", 200), ("charlie", 404), (None, 404)])
def test_logged_html_of_a_private_team_is_for_its_members(client, run, bob, charlie, who, status):
    upload(run, "media/html/page.html", b"<p>secret</p>")
    login(client, {"bob": bob, "charlie": charlie, None: None}[who])

    assert (
        client.get(page_url("runs:media_html", run, "media/html/page.html")).status_code == status
    )


# Plotly figures, 3D objects, molecules, bokeh


def test_a_plotly_figure_is_drawn_from_its_file(client, bob, run):
    path = "media/plotly/curve_0_abc.plotly.json"
    log_file(run, "curve", "plotly-file", path, data=b'{"data": [], "layout": {}}')
    login(client, bob)

    html = media_html(client, run)

    assert f'data-plotly-figure data-url="{page_url("runs:file_download", run, path)}"' in html
    assert "Download the figure JSON" in html


def test_a_figure_too_large_to_draw_is_a_download(client, bob, run):
    path = "media/plotly/big.plotly.json"
    log_file(run, "curve", "plotly-file", path, data=b"{}")
    RunFile.objects.filter(name=path).update(size=FIGURE_MAX_BYTES + 1)
    login(client, bob)

    html = media_html(client, run)

    assert "data-plotly-figure" not in html and "too large to draw here (10.0\xa0MB)" in html


@pytest.mark.parametrize(
    ("kind", "path", "format_shown"),
    [
        ("object3D-file", "media/object3D/cloud_0_abc.pts.json", "point cloud (W&amp;B JSON)"),
        ("object3D-file", "media/object3D/mesh_0_abc.glb", "glTF binary (GLB)"),
        ("molecule-file", "media/molecule/m_0_abc.pdb", "Protein Data Bank (PDB)"),
        ("bokeh-file", "media/bokeh/plot_0_abc.bokeh.json", "JSON"),
    ],
)
def test_files_not_drawn_are_downloads_with_their_format(
    client, bob, run, kind, path, format_shown
):
    log_file(run, "thing", kind, path)
    login(client, bob)

    html = media_html(client, run)

    assert f'href="{page_url("runs:file_download", run, path)}" download' in html
    assert f'<span class="muted">{format_shown}, 4' in html


def test_a_list_of_3d_objects_names_each_file(client, bob, run):
    objects = [file_value("object3D-file", f"media/object3D/p_0_{n}.pts.json") for n in "ab"]
    for obj in objects:
        upload(run, obj["path"], b"[]")
    filenames = [obj["path"].removeprefix("media/object3D/") for obj in objects]
    value = {"_type": "object3D", "filenames": filenames, "count": 2, "objects": objects}
    send(run, HISTORY_FILE, [{"_step": 0, "clouds": value}])
    login(client, bob)

    html = media_html(client, run)

    assert all(page_url("runs:file_download", run, obj["path"]) in html for obj in objects)


def test_format_names_fall_back_to_the_extension():
    assert format_name("media/object3D/x.OBJ") == "Wavefront OBJ"
    assert format_name("media/molecule/x.xyz") == "XYZ"
    assert format_name("media/molecule/noextension") == "unknown format"


# The summary


def summary_section(html):
    return re.search(r"<h2>Summary</h2>(.*?)</section>", html, re.S).group(1)


def test_media_in_the_summary_show_as_media_not_dicts(client, bob, run):
    image = "media/images/best_3_abc.png"
    table = "media/table/preds_3_abc.table.json"
    upload(run, image, png())
    upload(run, table, b'{"columns": [], "data": []}')
    run.summary = {
        "best": file_value("image-file", image, width=40, height=30, format="png"),
        "preds": file_value("table-file", table, ncols=2, nrows=3),
        "weights": {"_type": "histogram", "values": [1, 2], "bins": [0, 1, 2]},
        "broken": {"_type": "histogram", "values": [1, 2], "bins": [0]},
        "pending": file_value("audio-file", "media/audio/later.wav"),
        "loss": 0.25,
        "notes": "x" * 5000,
        "_wandb": {"runtime": 3},
    }
    run.save()
    login(client, bob)

    html = summary_section(client.get(run.get_absolute_url()).content.decode())

    assert "_type" not in html and "sha256" not in html and "_wandb" not in html
    assert f'<img class="summary-thumb" src="{page_url("runs:thumbnail", run, image)}"' in html
    assert f'href="{page_url("runs:file", run, table)}"' in html and ">Table</a>" in html
    assert '<svg class="summary-histogram"' in html
    assert html.count('<rect x="') == 2 and '<rect x="80.0" y="0.0" width="80.0"' in html
    assert "A histogram that cannot be drawn." in html
    assert "Audio not uploaded yet" in html
    assert '<code class="summary-text">0.25</code>' in html
    assert '<code class="summary-text">' + "x" * 5000 in html


def test_the_summary_costs_the_same_queries_with_2_and_30_media_values(client, bob, team, alice):
    counts = []
    for media_keys in (2, 30):
        project = ProjectFactory(entity=team, creator=alice, name=f"summary{media_keys}")
        run = RunFactory(project=project, author=alice, run_id=f"summary{media_keys}")
        for index in range(media_keys):
            upload(run, f"media/images/s_{index}.png", png())
        run.summary = {
            f"image{index}": file_value("image-file", f"media/images/s_{index}.png")
            for index in range(media_keys)
        }
        run.save()
        login(client, bob)
        client.get(run.get_absolute_url())  # warm the session and the caches
        with CaptureQueriesContext(connection) as queries:
            html = client.get(run.get_absolute_url()).content.decode()
        assert summary_section(html).count('class="summary-thumb"') == media_keys
        counts.append(len(queries))

    assert counts[0] == counts[1]
