"""Media in the project workspace: a row per media key with each shown run's media side by side,
and one step slider per row that moves every run of the row together."""

import re

import pytest
from django.urls import reverse

from runs import selectors
from runs.ingest import HISTORY_FILE
from runs.media import workspace as media_workspace
from runs.media.workspace import workspace_media
from runs.tests.test_media import image_value, log_images, png, upload
from runs.tests.test_run_sections import login, send
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="gan")


def make_runs(project, alice, count):
    return [
        RunFactory(project=project, author=alice, run_id=f"r{i}", name=f"r{i}")
        for i in range(count)
    ]


def rows_url(project, **params):
    base = reverse("runs:workspace_media", args=[project.entity.name, project.name])
    query = "&".join(
        f"{name}={value}"
        for name, values in params.items()
        for value in (values if isinstance(values, list) else [values])
    )
    return f"{base}?{query}" if query else base


def shown_files(html):
    """The image files the cells show, in order."""
    return re.findall(r"/thumbnails/media/images/([\w]+?)_0123", html)


def cell_runs(row):
    return [cell.run.run_id for cell in row.cells]


def test_each_media_key_is_a_row_with_every_run_at_its_last_step(project, alice):
    first, second = make_runs(project, alice, 2)
    log_images(first, [0, 5, 10])
    log_images(second, [0, 4])
    log_images(second, [3], key="grid")

    media = workspace_media([second, first])

    assert [row.key for row in media.rows] == ["grid", "samples"]
    grid, samples = media.rows
    # Runs that never logged a key get no column in its row; the others keep the order given.
    assert cell_runs(grid) == ["r1"] and cell_runs(samples) == ["r1", "r0"]
    assert samples.steps == [0, 4, 5, 10] and samples.step == 10 and samples.index == 3
    assert [cell.panel.step for cell in samples.cells] == [4, 10]
    assert [cell.panel.steps for cell in samples.cells] == [[0, 4], [0, 5, 10]]
    # Each image is the file of its own run, though both runs named their files alike.
    for cell in samples.cells:
        (item,) = cell.panel.items
        assert item.file.run_id == cell.run.pk and item.name.startswith("media/images/samples_")
    assert media.hidden_keys == 0


def test_a_step_shows_each_runs_nearest_logged_step_at_or_below_it(project, alice):
    early, late, sparse = make_runs(project, alice, 3)
    log_images(early, [0, 5, 10])
    log_images(late, [6, 8])
    log_images(sparse, [0])

    (row,) = workspace_media([early, late, sparse], "samples", 5).rows

    assert row.step == 5 and row.steps == [0, 5, 6, 8, 10] and row.index == 1
    assert row.cells[0].panel.step == 5
    assert row.cells[1].panel is None  # its first image came at step 6
    assert row.cells[2].panel.step == 0
    assert row.cells[2].panel.items[0].caption == "sample at 0"


def test_no_runs_or_no_media_make_no_rows(project, alice, django_assert_num_queries):
    (run,) = make_runs(project, alice, 1)
    send(run, HISTORY_FILE, [{"_step": 0, "loss": 1.0, "note": "text"}])

    with django_assert_num_queries(0):
        assert workspace_media([]).rows == []
    with django_assert_num_queries(1):
        assert workspace_media([run]).rows == []


@pytest.mark.parametrize(("run_count", "key_count"), [(2, 2), (8, 6)])
def test_the_rows_cost_three_queries_whatever_the_runs_keys_and_steps(
    project, alice, run_count, key_count, django_assert_num_queries
):
    runs = make_runs(project, alice, run_count)
    for index, run in enumerate(runs):
        for key in range(key_count):
            log_images(run, range(index % 3 + 1), key=f"k{key}")

    with django_assert_num_queries(3):
        media = workspace_media(runs)
    with django_assert_num_queries(3):
        at_step = workspace_media(runs, "k0", 1)

    assert [len(row.cells) for row in media.rows] == [run_count] * key_count
    assert all(item.file for row in media.rows for c in row.cells for item in c.panel.items)
    assert len(at_step.rows) == 1


# Session, user, project with its entity, the viewer's permissions, the runs, then the three
# queries of the rows.
ENDPOINT_QUERIES = 8


@pytest.mark.parametrize(("run_count", "key_count"), [(2, 2), (8, 6)])
def test_the_endpoint_costs_the_same_queries_at_any_size(
    client, bob, project, alice, run_count, key_count, django_assert_num_queries
):
    runs = make_runs(project, alice, run_count)
    for run in runs:
        for key in range(key_count):
            log_images(run, [0, 1], key=f"k{key}")
    run_ids = [run.run_id for run in runs]
    login(client, bob)
    client.get(rows_url(project, run=run_ids))  # warm the session and the caches

    with django_assert_num_queries(ENDPOINT_QUERIES):
        html = client.get(rows_url(project, run=run_ids)).content.decode()
    with django_assert_num_queries(ENDPOINT_QUERIES):
        row = client.get(rows_url(project, run=run_ids, key="k0", step=0)).content.decode()

    assert html.count("data-workspace-media-row") == key_count
    assert html.count('class="workspace-media-cell"') == run_count * key_count
    assert row.count('class="workspace-media-cell"') == run_count


def test_the_rows_show_each_run_side_by_side(client, bob, project, alice):
    first, second = make_runs(project, alice, 2)
    first.name = "first-run"
    first.save()
    log_images(first, [0, 5])
    log_images(second, [0, 3])
    login(client, bob)

    html = client.get(rows_url(project, run=["r1", "r0"])).content.decode()

    assert html.count("data-workspace-media-row") == 1 and "<strong>samples</strong>" in html
    assert html.count('class="workspace-media-cell"') == 2
    assert html.index(">r1</a>") < html.index(">first-run</a>")
    assert 'data-steps="[0, 3, 5]"' in html and 'min="0" max="2" value="2"' in html
    assert "<output data-workspace-media-step>5</output>" in html
    assert "<figcaption>sample at 3</figcaption>" in html
    assert "<figcaption>sample at 5</figcaption>" in html
    assert f'data-color="{first.color}"' in html and f'data-color="{second.color}"' in html
    thumbnail = reverse(
        "runs:thumbnail",
        args=[project.entity.name, project.name, "r0", image_value("samples", 5)["path"]],
    )
    assert thumbnail in html
    # The row's slider asks for the same runs, in the same order.
    assert "?key=samples&amp;run=r1&amp;run=r0" in html


def test_the_slider_endpoint_moves_every_run_of_the_row(client, bob, project, alice):
    first, second = make_runs(project, alice, 2)
    log_images(first, [0, 5, 10])
    log_images(second, [2, 7])
    login(client, bob)

    html = client.get(rows_url(project, run=["r0", "r1"], key="samples", step=7)).content.decode()

    assert "<html" not in html and "data-workspace-media-row" not in html
    assert "<figcaption>sample at 5</figcaption>" in html
    assert "<figcaption>sample at 7</figcaption>" in html
    before = client.get(rows_url(project, run=["r0", "r1"], key="samples", step=1))
    assert "Nothing logged at or before step 1." in before.content.decode()
    assert "<figcaption>sample at 0</figcaption>" in before.content.decode()


def test_without_chosen_runs_the_rows_are_of_the_tables_first_runs(client, bob, project, alice):
    runs = make_runs(project, alice, 11)
    for run in runs:
        log_images(run, [0])
    login(client, bob)

    html = client.get(rows_url(project)).content.decode()

    # The newest ten, as the workspace's charts: the oldest run (r0) is not among them.
    assert html.count('class="workspace-media-cell"') == 10
    assert ">r0</a>" not in html and ">r10</a>" in html


def test_runs_of_other_projects_are_not_shown(client, bob, project, team, alice):
    (mine,) = make_runs(project, alice, 1)
    other = RunFactory(
        project=ProjectFactory(entity=team, creator=alice, name="other"), author=alice, run_id="x"
    )
    log_images(mine, [0])
    log_images(other, [0])
    login(client, bob)

    html = client.get(rows_url(project, run=["x", "r0"])).content.decode()

    assert html.count('class="workspace-media-cell"') == 1 and ">r0</a>" in html


def test_no_media_renders_nothing(client, bob, project, alice):
    (run,) = make_runs(project, alice, 1)
    send(run, HISTORY_FILE, [{"_step": 0, "loss": 1.0}])
    login(client, bob)

    response = client.get(rows_url(project, run="r0"))

    assert response.status_code == 200 and response.content.decode().strip() == ""


def test_more_keys_than_shown_are_counted(client, bob, project, alice, monkeypatch):
    (run,) = make_runs(project, alice, 1)
    for key in ("a", "b", "c"):
        log_images(run, [0], key=key)
    monkeypatch.setattr(media_workspace, "MAX_MEDIA_ROWS", 2)
    login(client, bob)

    html = client.get(rows_url(project, run="r0")).content.decode()

    assert html.count("data-workspace-media-row") == 2
    assert "1 more media key not shown here" in html


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"key": "samples", "step": "five"}, 400),
        ({"key": "samples", "step": ""}, 400),
        ({"key": "loss", "step": 0}, 404),  # a scalar key is not media
        ({"key": "nothing", "step": 0}, 404),
        ({"key": "samples", "step": -5}, 200),  # before every step: each run says so
    ],
)
def test_bad_requests_get_a_clear_4xx(client, bob, project, alice, params, status):
    (run,) = make_runs(project, alice, 1)
    log_images(run, [0, 5])
    login(client, bob)

    assert client.get(rows_url(project, run="r0", **params)).status_code == status


@pytest.mark.parametrize("who", ["charlie", None])
def test_outsiders_get_404_on_a_private_project(client, project, alice, charlie, who):
    (run,) = make_runs(project, alice, 1)
    log_images(run, [0])
    login(client, charlie if who else None)

    assert client.get(rows_url(project, run="r0")).status_code == 404
    assert client.get(rows_url(project, run="r0", key="samples", step=0)).status_code == 404


def test_the_project_page_fetches_the_rows_for_its_workspace(client, bob, project, alice):
    (run,) = make_runs(project, alice, 1)
    upload(run, "media/images/x.png", png())
    login(client, bob)

    html = client.get(project.get_absolute_url()).content.decode()

    assert f'data-workspace-media data-url="{rows_url(project)}"' in html
    assert "js/workspace_media.js" in html


def test_the_run_page_lists_the_first_media_files_and_counts_the_rest(
    client, bob, project, alice, monkeypatch
):
    (run,) = make_runs(project, alice, 1)
    log_images(run, [0, 1, 2])
    upload(run, "requirements.txt", b"torch\n")
    monkeypatch.setattr(selectors, "MEDIA_FILES_LISTED", 2)
    login(client, bob)

    html = client.get(run.get_absolute_url()).content.decode()
    files = re.search(r'<section class="panel" id="files">(.*?)</section>', html, re.S).group(1)

    assert ">requirements.txt</a>" in files
    assert ">media/images/samples_0_" in files and ">media/images/samples_1_" in files
    assert ">media/images/samples_2_" not in files
    assert "And 1 more logged media file under <code>media/</code>" in files
