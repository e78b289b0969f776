"""Images a run logged (`wandb.Image`) on the run page: one panel per key with a step slider, and
thumbnails made with Pillow once, then served from storage.

The history values have the shape the wandb 0.31.0 client sends (checked with the real client in
api/tests/test_wandb_client.py)."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from runs import media
from runs.ingest import HISTORY_FILE
from runs.models import RunFile
from runs.tests.test_run_sections import login, send
from runs.tracking import run_file_store, run_file_thumbnail_prepare
from tests.factories import ProjectFactory, RunFactory

COLORS = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]


def png(width=40, height=30, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def image_value(key, step, *, width=40, height=30, caption=None):
    value = {
        "_type": "image-file",
        "path": f"media/images/{key}_{step}_0123456789abcdef0123.png",
        "sha256": "0" * 64,
        "size": 100,
        "width": width,
        "height": height,
        "format": "png",
    }
    if caption is not None:
        value["caption"] = caption
    return value


def upload(run, name, data: bytes) -> RunFile:
    file = RunFile.objects.create(run=run, name=name)
    return run_file_store(file, io.BytesIO(data))


def log_images(run, steps, key="samples"):
    rows = []
    for step in steps:
        value = image_value(key, step, caption=f"sample at {step}")
        upload(run, value["path"], png(color=COLORS[step % 3]))
        rows.append({"_step": step, "loss": 1 / (step + 1), key: value})
    send(run, HISTORY_FILE, rows)


def page_url(name, run, *args):
    project = run.project
    return reverse(name, args=[project.entity.name, project.name, run.run_id, *args])


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="gan")
    return RunFactory(project=project, author=alice, run_id="painter")


def media_section(html):
    return re.search(r'<section class="panel" id="media">(.*?)</section>', html, re.S).group(1)


def test_logged_images_show_in_a_panel_with_a_step_slider(client, bob, run):
    log_images(run, [0, 5, 10])
    login(client, bob)

    html = media_section(client.get(run.get_absolute_url()).content.decode())

    assert html.count("data-media-panel") == 1 and "<strong>samples</strong>" in html
    assert 'min="0" max="2" value="2"' in html
    assert 'data-steps="[0, 5, 10]"' in html
    # Only the last step is on the page; the slider asks for the others one at a time.
    assert re.findall(r'data-step="(\d+)"', html) == ["10"]
    assert "<output data-media-step>10</output>" in html
    last = "media/images/samples_10_0123456789abcdef0123.png"
    assert page_url("runs:thumbnail", run, last) in html
    assert page_url("runs:file", run, last) in html
    assert "<figcaption>sample at 10</figcaption>" in html
    assert "samples_5_" not in html
    # The loss is charted as before; the image key is not a chart.
    assert 'data-key="samples"' not in client.get(run.get_absolute_url()).content.decode()


def test_the_slider_fetches_the_panel_at_another_step(client, bob, run):
    log_images(run, [0, 5, 10])
    login(client, bob)
    url = page_url("runs:media", run)

    html = client.get(url, {"key": "samples", "step": 5}).content.decode()

    name = "media/images/samples_5_0123456789abcdef0123.png"
    assert page_url("runs:thumbnail", run, name) in html
    assert "<figcaption>sample at 5</figcaption>" in html and "samples_10_" not in html


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"key": "samples", "step": 4}, 404),  # no media logged at that step
        ({"key": "loss", "step": 5}, 404),  # a scalar key is not media
        ({"key": "nothing", "step": 5}, 404),
        ({"key": "samples", "step": "five"}, 400),
        ({"key": "samples"}, 400),
    ],
)
def test_the_slider_endpoint_refuses_steps_without_media(client, bob, run, params, status):
    log_images(run, [0, 5])
    login(client, bob)

    assert client.get(page_url("runs:media", run), params).status_code == status


def test_outsiders_cannot_fetch_media_of_a_private_project(client, run, django_user_model):
    log_images(run, [0])
    outsider = django_user_model.objects.create_user("mallory", password="pw-mallory-1")
    client.force_login(outsider)

    response = client.get(page_url("runs:media", run), {"key": "samples", "step": 0})

    assert response.status_code == 404


def test_a_list_of_images_shows_side_by_side(client, bob, run):
    names = [f"media/images/grid_0_{n}.png" for n in "ab"]
    for name, color in zip(names, COLORS, strict=False):
        upload(run, name, png(color=color))
    value = {
        "_type": "images/separated",
        "width": 40,
        "height": 30,
        "format": "png",
        "count": 2,
        "filenames": names,
        "captions": ["left", "right"],
    }
    send(run, HISTORY_FILE, [{"_step": 0, "grid": value}])
    login(client, bob)

    html = media_section(client.get(run.get_absolute_url()).content.decode())

    assert html.count('class="media-image"') == 2
    assert html.index("<figcaption>left</figcaption>") < html.index(
        "<figcaption>right</figcaption>"
    )
    assert all(page_url("runs:thumbnail", run, name) in html for name in names)


def test_an_image_not_uploaded_yet_says_so(client, bob, run):
    send(run, HISTORY_FILE, [{"_step": 0, "samples": image_value("samples", 0)}])
    login(client, bob)

    html = media_section(client.get(run.get_absolute_url()).content.decode())

    assert "Not uploaded yet." in html and "runs:thumbnail" not in html


def test_a_run_without_images_says_how_to_log_them(client, bob, run):
    send(run, HISTORY_FILE, [{"_step": 0, "loss": 1.0, "note": "text"}])
    login(client, bob)

    html = media_section(client.get(run.get_absolute_url()).content.decode())

    assert "No media logged." in html


@pytest.mark.parametrize("steps", [3, 50])
def test_the_media_panels_cost_three_queries_whatever_the_steps(
    run, steps, django_assert_num_queries
):
    log_images(run, range(steps))
    log_images(run, range(steps), key="other")

    with django_assert_num_queries(3):
        panels = media.media_panels(run)

    assert [panel.key for panel in panels] == ["other", "samples"]
    assert [len(panel.steps) for panel in panels] == [steps, steps]
    assert [panel.step for panel in panels] == [steps - 1, steps - 1]
    assert all(item.file for panel in panels for item in panel.items)


def test_the_run_page_costs_the_same_queries_at_3_and_50_steps(client, bob, team, alice):
    counts = []
    for steps in (3, 50):
        project = ProjectFactory(entity=team, creator=alice, name=f"gan{steps}")
        run = RunFactory(project=project, author=alice, run_id=f"painter{steps}")
        log_images(run, range(steps))
        login(client, bob)
        client.get(run.get_absolute_url())  # warm the session and the caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(run.get_absolute_url()).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


# Thumbnails


def test_a_thumbnail_is_made_once_then_served_from_storage(client, bob, run, monkeypatch):
    name = "media/images/big_0_abc.png"
    file = upload(run, name, png(width=1200, height=600))
    login(client, bob)

    response = client.get(page_url("runs:thumbnail", run, name))

    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    thumbnail = Image.open(io.BytesIO(response.content))
    assert thumbnail.format == "WEBP" and thumbnail.size == (512, 256)
    assert default_storage.exists(media.thumbnail_name(file))

    def no_second_thumbnail(file):
        raise AssertionError("made again")

    monkeypatch.setattr(media.thumbnails, "_make_thumbnail", no_second_thumbnail)
    again = client.get(page_url("runs:thumbnail", run, name))
    assert again.status_code == 200 and again.content == response.content


def test_an_uploaded_image_has_its_thumbnail_made_by_a_task_after_the_commit(
    client, bob, run, monkeypatch, django_capture_on_commit_callbacks
):
    name = "media/images/early_0_abc.png"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        file = upload(run, name, png(width=1200, height=600))
        assert not default_storage.exists(media.thumbnail_name(file))
    assert len(callbacks) == 1
    assert default_storage.exists(media.thumbnail_name(file))

    def no_thumbnail_in_the_request(file):
        raise AssertionError("made in the request")

    monkeypatch.setattr(media.thumbnails, "_make_thumbnail", no_thumbnail_in_the_request)
    login(client, bob)
    response = client.get(page_url("runs:thumbnail", run, name))
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (512, 256)


def test_the_thumbnail_task_of_a_file_deleted_meanwhile_does_nothing(run):
    file = upload(run, "media/images/gone_0_abc.png", png())
    file_id = file.pk
    file.delete()

    result = run_file_thumbnail_prepare.enqueue(run_file_id=file_id)

    assert result.status == "SUCCESSFUL" and result.return_value is False


def test_a_small_image_keeps_its_size(client, bob, run):
    name = "media/images/small_0_abc.png"
    upload(run, name, png(width=40, height=30))
    login(client, bob)

    response = client.get(page_url("runs:thumbnail", run, name))

    assert Image.open(io.BytesIO(response.content)).size == (40, 30)


def test_an_image_uploaded_again_gets_a_new_thumbnail(client, bob, run):
    name = "media/images/again_0_abc.png"
    upload(run, name, png(width=40, height=30))
    login(client, bob)
    client.get(page_url("runs:thumbnail", run, name))
    file = RunFile.objects.get(run=run, name=name)
    run_file_store(file, io.BytesIO(png(width=20, height=10)))

    response = client.get(page_url("runs:thumbnail", run, name))

    assert Image.open(io.BytesIO(response.content)).size == (20, 10)


@pytest.mark.parametrize(
    "content",
    [b"not an image at all", png()[:60], b"GIF89a" + b"\x00" * 10],
    ids=["text", "truncated png", "broken gif"],
)
def test_a_file_that_is_not_an_image_is_404(client, bob, run, content):
    upload(run, "media/images/bad.png", content)
    login(client, bob)

    response = client.get(page_url("runs:thumbnail", run, "media/images/bad.png"))

    assert response.status_code == 404
    file = RunFile.objects.get(run=run, name="media/images/bad.png")
    assert not default_storage.exists(media.thumbnail_name(file))


def test_a_missing_file_is_404(client, bob, run):
    login(client, bob)
    # Announced but never uploaded, uploaded but gone from storage, never announced.
    RunFile.objects.create(run=run, name="media/images/announced.png")
    gone = upload(run, "media/images/gone.png", png())
    default_storage.delete(gone.storage_name)

    for name in ("announced.png", "gone.png", "never.png"):
        response = client.get(page_url("runs:thumbnail", run, f"media/images/{name}"))
        assert response.status_code == 404


def test_a_decompression_bomb_is_refused_without_decoding(client, bob, run, monkeypatch):
    # A 20000 x 20000 PNG of one colour compresses to a few hundred kilobytes.
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")
    upload(run, "media/images/bomb.png", out.getvalue())
    login(client, bob)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    response = client.get(page_url("runs:thumbnail", run, "media/images/bomb.png"))

    assert response.status_code == 404


# Who may see them: as the run page


@pytest.fixture
def image_run(run):
    upload(run, "media/images/samples_0_abc.png", png())
    return run


@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("bob", 200), ("charlie", 404), (None, 404)]
)
def test_thumbnails_of_a_private_team_are_for_its_members(
    client, image_run, alice, bob, charlie, who, status
):
    login(client, {"alice": alice, "bob": bob, "charlie": charlie, None: None}[who])

    response = client.get(page_url("runs:thumbnail", image_run, "media/images/samples_0_abc.png"))

    assert response.status_code == status


@pytest.mark.parametrize("who", ["charlie", None])
def test_thumbnails_of_a_public_project_are_for_everyone(client, public_team, alice, charlie, who):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    run = RunFactory(project=project, author=alice, run_id="shown")
    upload(run, "media/images/samples_0_abc.png", png())
    login(client, charlie if who else None)

    response = client.get(page_url("runs:thumbnail", run, "media/images/samples_0_abc.png"))

    assert response.status_code == 200


def test_a_thumbnail_of_another_runs_file_is_404(client, bob, image_run, alice):
    other = RunFactory(project=image_run.project, author=alice, run_id="other")
    login(client, bob)

    response = client.get(page_url("runs:thumbnail", other, "media/images/samples_0_abc.png"))

    assert response.status_code == 404


def test_thumbnail_storage_is_separate_from_run_files(image_run):
    file = RunFile.objects.get(run=image_run)
    default_storage.save(media.thumbnail_name(file), ContentFile(b"cached"))

    assert media.thumbnail(file) == b"cached"


def test_media_logged_once_has_no_slider(client, bob, run):
    log_images(run, [3])
    login(client, bob)

    html = media_section(client.get(run.get_absolute_url()).content.decode())

    assert "data-media-slider" not in html
    assert "Step <output data-media-step>3</output>" in html
