"""A logged table (`wandb.Table`) on the run page and its endpoints: the panel loads its first
page from runs:table, which pages, sorts and filters; runs:table_csv downloads it whole; images in
cells show as thumbnails of the run's files (or of the run_table artifact's files when the table
comes from one, what the 0.31.0 client logs: artifacts/tests/test_table_artifacts.py)."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runs.ingest import HISTORY_FILE
from runs.tests.test_media import COLORS, log_images, page_url, png, upload
from runs.tests.test_run_sections import body, login, send
from tests.factories import ProjectFactory, RunFactory

COLUMNS = ["id", "label", "score", "sample"]


def table_value(key="scores", step=0, rows=30, **extra):
    return {
        "_type": "table-file",
        "path": f"media/table/{key}_{step}_0123456789abcdef0123.table.json",
        "sha256": "0" * 64,
        "size": 100,
        "ncols": len(COLUMNS),
        "nrows": rows,
        "log_mode": "IMMUTABLE",
        **extra,
    }


def table_rows(count, image=lambda n: f"media/images/cell_{n % 3}.png"):
    return [
        [n, f"item {n}", round(1 - n / 100, 2), {"_type": "image-file", "path": image(n)}]
        for n in range(count)
    ]


def log_table(run, *, key="scores", step=0, rows=30, images=True):
    value = table_value(key, step, rows)
    content = {"columns": COLUMNS, "data": table_rows(rows)}
    upload(run, value["path"], json.dumps(content).encode())
    if images:
        for n in range(3):
            upload(run, f"media/images/cell_{n}.png", png(color=COLORS[n]))
    send(run, HISTORY_FILE, [{"_step": step, key: value}])
    return value


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="evals")
    return RunFactory(project=project, author=alice, run_id="scorer")


def get_table(client, run, headers=None, **params):
    url = page_url("runs:table", run)
    return client.get(url, {"key": "scores", "step": 0, **params}, headers=headers)


def labels(html):
    return re.findall(r'<td class="cell-text">(item \d+)</td>', html)


def test_the_run_page_shows_a_panel_that_loads_the_table(client, bob, run):
    log_table(run)
    login(client, bob)

    html = client.get(run.get_absolute_url()).content.decode()

    assert "30 rows \u00d7 4 columns." in html
    loader = page_url("runs:table", run) + "?key=scores&amp;step=0"
    assert f'hx-get="{loader}" hx-trigger="load"' in html
    assert "item 1" not in html  # the page itself reads no table file


def test_the_table_shows_its_first_page_with_thumbnails(client, bob, run):
    log_table(run)
    login(client, bob)

    response = get_table(client, run, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html  # htmx gets the panel body
    assert "30 rows \u00d7 4 columns" in html and "Rows 1\u201325 of 30" in html
    assert labels(html) == [f"item {n}" for n in range(25)]
    name = "media/images/cell_0.png"
    assert f'<img src="{page_url("runs:thumbnail", run, name)}"' in html
    assert f'<a href="{page_url("runs:file", run, name)}"' in html


def test_without_htmx_the_table_is_a_page_of_its_own(client, bob, run):
    log_table(run)
    login(client, bob)

    html = get_table(client, run).content.decode()

    assert "<html" in html and "<h1>scores" in html and labels(html)[0] == "item 0"


def test_paging_sorting_and_filtering_through_the_endpoint(client, bob, run):
    log_table(run)
    login(client, bob)

    assert labels(get_table(client, run, page=2).content.decode()) == [
        f"item {n}" for n in range(25, 30)
    ]
    by_score = get_table(client, run, sort="score").content.decode()
    assert labels(by_score)[:2] == ["item 29", "item 28"]
    assert 'aria-sort="ascending"' in by_score
    filtered = get_table(client, run, q="item 2", col="label").content.decode()
    assert labels(filtered) == ["item 2"] + [f"item {n}" for n in range(20, 30)]
    assert "11 matches" in filtered


def test_links_keep_the_order_and_filter(client, bob, run):
    log_table(run, rows=60)
    login(client, bob)

    html = get_table(client, run, sort="id", desc="1", q="item").content.decode()

    assert re.search(r'href="[^"]*page=2&amp;sort=id&amp;desc=1&amp;q=item"[^>]*rel="next"', html)
    assert labels(html)[0] == "item 59"


def test_media_cells_not_uploaded_say_so(client, bob, run):
    log_table(run, images=False)
    login(client, bob)

    html = get_table(client, run).content.decode()

    assert html.count("not uploaded") == 25 and "runs/scorer/thumbnails" not in html


def test_a_table_file_that_cannot_be_read_says_why(client, bob, run):
    value = table_value()
    upload(run, value["path"], b"not json")
    send(run, HISTORY_FILE, [{"_step": 0, "scores": value}])
    login(client, bob)

    response = get_table(client, run)

    assert response.status_code == 200 and "This table file is not valid JSON." in body(response)
    assert (
        client.get(page_url("runs:table_csv", run), {"key": "scores", "step": 0}).status_code == 404
    )


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"step": "x"}, 400),
        ({"page": "x"}, 400),
        ({"page": "0"}, 200),  # clamped to the first page
        ({"page": "999"}, 200),  # clamped to the last page
        ({"sort": "nope"}, 400),
        ({"col": "nope", "q": "x"}, 400),
        ({"desc": "sideways"}, 400),
        ({"step": "7"}, 404),
        ({"key": "samples"}, 404),  # images, not a table
        ({"key": "nothing"}, 404),
    ],
)
def test_bad_parameters_get_a_clear_answer(client, bob, run, params, status):
    log_table(run)
    log_images(run, [0])
    login(client, bob)

    assert get_table(client, run, **params).status_code == status


@pytest.mark.parametrize(("who", "status"), [("bob", 200), ("charlie", 404), (None, 404)])
def test_a_private_teams_table_is_for_its_members(client, run, bob, charlie, who, status):
    log_table(run)
    login(client, {"bob": bob, "charlie": charlie, None: None}[who])

    assert get_table(client, run).status_code == status
    csv_url = page_url("runs:table_csv", run)
    assert client.get(csv_url, {"key": "scores", "step": 0}).status_code == status


def test_a_public_projects_table_is_for_everyone(client, public_team, alice, charlie):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    run = RunFactory(project=project, author=alice, run_id="shown")
    log_table(run)
    login(client, charlie)

    assert labels(get_table(client, run).content.decode())[0] == "item 0"


def test_the_table_costs_the_same_queries_at_any_size(client, bob, team, alice):
    counts = []
    for rows in (3, 200):
        project = ProjectFactory(entity=team, creator=alice, name=f"evals{rows}")
        run = RunFactory(project=project, author=alice, run_id=f"scorer{rows}")
        log_table(run, rows=rows)
        login(client, bob)
        get_table(client, run)  # warm the session and the caches
        with CaptureQueriesContext(connection) as queries:
            assert get_table(client, run, sort="score", q="item").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_the_csv_is_the_whole_table(client, bob, run):
    log_table(run, rows=60)
    login(client, bob)

    response = client.get(page_url("runs:table_csv", run), {"key": "scores", "step": 0})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="scorer-scores-0.csv"'
    lines = body(response).splitlines()
    assert lines[0] == "id,label,score,sample" and len(lines) == 61
    assert lines[60] == "59,item 59,0.41,media/images/cell_2.png"


# Any parameters: never a server error


PARAMS = st.dictionaries(
    st.sampled_from(["key", "step", "page", "sort", "desc", "q", "col"]),
    st.one_of(st.text(max_size=8), st.sampled_from(["scores", "0", "2", "id", "score", "1"])),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=PARAMS)
def test_any_parameters_get_an_answer_below_500(client, bob, run, params):
    if not run.files.exists():  # once: hypothesis runs the examples in one test
        log_table(run, rows=40)
        login(client, bob)

    response = get_table(client, run, **params)

    assert response.status_code in (200, 400, 404)
