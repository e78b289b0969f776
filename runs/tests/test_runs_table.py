"""The runs table on the project page: filters, sorting (base columns, summary and config keys),
extra columns, keyset paging, the htmx partial, and a query count that does not grow with runs.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team; alice alone in the public open-team.
"""

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import Alert, Run
from runs.selectors import PAGE_SIZE
from tests.factories import ProjectFactory, RunFactory, TeamFactory, UserFactory, add_member

STATES = ["running", "finished", "failed", "crashed"]
WORDS = ["alpha", "beta", "gamma", "delta"]
T0 = timezone.now().replace(microsecond=0) - timedelta(days=30)


def make_runs(project, authors, count, *, start=0):
    """`count` runs with ties in every column (so the primary key must break them) and a quarter
    of them missing summary.loss, config.lr and runtime (so nulls-last is exercised)."""
    runs = []
    for i in range(start, start + count):
        summary = {"_step": i, "acc": i % 7 / 7}
        config = {"optimizer": WORDS[i % 3], "epochs": 10}
        if i % 4:
            summary["loss"] = round((i * 37) % 50 / 10, 1)  # 5 decimals repeat: ties
            config["lr"] = [0.1, 0.01, 0.001][i % 3]
        runs.append(
            RunFactory.build(
                project=project,
                run_id=f"r{i:04d}",
                name=f"{WORDS[i % 4]}-{i % 10}",
                author=authors[i % len(authors)],
                state=STATES[i % 4],
                tags=["baseline"] if i % 5 == 0 else (["v2", "sweep"] if i % 5 == 1 else []),
                created_at=T0 + timedelta(minutes=i // 2),  # pairs share a time
                runtime=None if i % 4 == 0 else float((i * 13) % 40),
                summary=summary,
                config=config,
            )
        )
    return Run.objects.bulk_create(runs)


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def runs(project, alice, bob):
    return make_runs(project, [alice, bob, None], 120)


def url_of(project):
    return f"/{project.entity.name}/{project.name}/"


def run_ids(response):
    return [run.run_id for run in response.context["page"].runs]


def pager_link(response, rel):
    match = re.search(rf'<a href="([^"]*)" rel="{rel}">', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def walk(client, url, params=None):
    """Every page from the first, following the rendered `next` links; returns the pages."""
    pages = []
    response = client.get(url, params or {})
    while True:
        assert response.status_code == 200
        pages.append(response)
        link = pager_link(response, "next")
        if link is None:
            return pages
        assert len(pages) < 20, "paging does not end"
        response = client.get(url + link)


# Expected orders, computed in Python from the rows.

SORT_VALUES = {
    "name": lambda run: run.name,
    "state": lambda run: run.state,
    "author": lambda run: run.author.username if run.author else None,
    "created": lambda run: run.created_at,
    "runtime": lambda run: run.runtime,
    "summary.loss": lambda run: run.summary.get("loss"),
    "config.lr": lambda run: run.config.get("lr"),
    "config.optimizer": lambda run: run.config.get("optimizer"),
}


def expected_order(runs, sort):
    """Values in the sort's direction with the primary key breaking ties; runs without a value
    last (by primary key in the same direction)."""
    key = sort.removeprefix("-")
    descending = sort.startswith("-")
    value = SORT_VALUES[key]
    present = sorted((r for r in runs if value(r) is not None), key=lambda r: (value(r), r.pk))
    missing = sorted((r for r in runs if value(r) is None), key=lambda r: r.pk)
    if descending:
        present.reverse()
        missing.reverse()
    return [r.run_id for r in present + missing]


# Who sees the table


def test_member_sees_the_runs_table(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(url_of(project))
    assert response.status_code == 200
    assert response.context["page"].total == 120
    assert len(run_ids(response)) == PAGE_SIZE
    assert 'id="runs-table"' in response.content.decode()
    # A member gets the bulk controls and the move targets.
    assert "Move…" in response.content.decode()


def test_anonymous_sees_a_public_project_without_move_or_delete(client, public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    make_runs(project, [alice], 3)
    response = client.get(url_of(project))
    assert response.status_code == 200
    assert len(run_ids(response)) == 3
    body = response.content.decode()
    assert "Move…" not in body and "Delete…" not in body
    # Runs can still be ticked: anyone who sees the project may compare them.
    assert 'name="run"' in body and ">Compare</button>" in body


# Filters


def test_filter_by_state(client, bob, runs, project):
    client.force_login(bob)
    pages = walk(client, url_of(project), {"state": "failed"})
    ids = [i for page in pages for i in run_ids(page)]
    assert sorted(ids) == sorted(r.run_id for r in runs if r.state == "failed")
    assert pages[0].context["page"].total == 30


def test_unknown_state_is_ignored(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(url_of(project), {"state": "exploded"})
    assert response.context["page"].total == 120


def test_filter_by_tag_matches_whole_tags(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(url_of(project), {"tag": "sweep"})
    assert sorted(run_ids(response)) == sorted(r.run_id for r in runs if "sweep" in r.tags)
    # "swee" is part of a tag, not a tag.
    assert client.get(url_of(project), {"tag": "swee"}).context["page"].total == 0


def test_filter_by_author(client, bob, runs, project):
    client.force_login(bob)
    pages = walk(client, url_of(project), {"author": "bob"})
    ids = [i for page in pages for i in run_ids(page)]
    assert sorted(ids) == sorted(r.run_id for r in runs if r.author and r.author.pk == bob.pk)


def test_filter_by_text_searches_names_and_ids(client, bob, runs, project):
    client.force_login(bob)
    by_name = client.get(url_of(project), {"q": "GAMMA-2"})
    assert sorted(run_ids(by_name)) == sorted(r.run_id for r in runs if r.name == "gamma-2")
    by_id = client.get(url_of(project), {"q": "r011"})
    assert sorted(run_ids(by_id)) == [f"r011{d}" for d in range(10)]


def test_filters_combine(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(url_of(project), {"state": "finished", "author": "alice", "tag": "v2"})
    expected = [
        r.run_id
        for r in runs
        if r.state == "finished" and r.author and r.author.username == "alice" and "v2" in r.tags
    ]
    assert expected and sorted(run_ids(response)) == sorted(expected)
    assert "Clear filters" in response.content.decode()


def test_no_match_says_so(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(url_of(project), {"q": "nothing-like-this"})
    assert run_ids(response) == []
    assert "No runs match this filter." in response.content.decode()


# Sorting and paging


def test_default_order_is_newest_first(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(url_of(project))
    assert run_ids(response) == expected_order(runs, "-created")[:PAGE_SIZE]


@pytest.mark.parametrize("sort", [s for key in SORT_VALUES for s in (key, f"-{key}")])
def test_sort_and_page_through_every_run_once(client, bob, runs, project, sort):
    """Following `next` from the first page visits every run exactly once, in the sort's order
    (runs without the key last); `prev` from page 3 gives page 2 back exactly."""
    client.force_login(bob)
    url = url_of(project)
    pages = walk(client, url, {"sort": sort})
    assert [len(run_ids(page)) for page in pages] == [50, 50, 20]
    assert [i for page in pages for i in run_ids(page)] == expected_order(runs, sort)
    assert pager_link(pages[0], "prev") is None

    back = client.get(url + pager_link(pages[2], "prev"))
    assert run_ids(back) == run_ids(pages[1])
    assert pager_link(back, "prev") and pager_link(back, "next")
    first = client.get(url + pager_link(back, "prev"))
    assert run_ids(first) == run_ids(pages[0])
    assert pager_link(first, "prev") is None


@pytest.mark.parametrize("sort", ["summary.loss", "-summary.loss"])
def test_key_holding_nulls_objects_and_lists_pages_every_run_once(
    client, bob, project, alice, sort
):
    """W&B summaries hold histograms and media as objects, and sometimes nulls: whatever the
    database makes of their order, paging neither skips nor repeats a run."""
    values = [1.5, None, {"_type": "histogram", "bins": [1, 2]}, [3, 4], "text", 0.5, True]
    runs = [
        RunFactory.build(
            project=project,
            run_id=f"j{i:03d}",
            summary={} if i % 8 == 7 else {"loss": values[i % 8 % len(values)]},
        )
        for i in range(130)
    ]
    Run.objects.bulk_create(runs)
    client.force_login(bob)
    url = url_of(project)
    pages = walk(client, url, {"sort": sort})
    ids = [i for page in pages for i in run_ids(page)]
    assert sorted(ids) == sorted(r.run_id for r in runs)
    assert ids[-16:] == sorted((r.run_id for r in runs if not r.summary), reverse="-" in sort)
    back = client.get(url + pager_link(pages[2], "prev"))
    assert run_ids(back) == run_ids(pages[1])


def test_paging_keeps_the_filter(client, bob, project, alice):
    make_runs(project, [alice, bob], 400)
    client.force_login(bob)
    pages = walk(client, url_of(project), {"state": "failed", "sort": "-summary.loss"})
    ids = [i for page in pages for i in run_ids(page)]
    assert len(ids) == len(set(ids)) == 100
    assert all(Run.objects.get(project=project, run_id=i).state == "failed" for i in ids[:5])


def test_unknown_sort_falls_back_to_newest_first(client, bob, runs, project):
    client.force_login(bob)
    for sort in ["password", "-summary.", "summary.a__b", "history.loss"]:
        response = client.get(url_of(project), {"sort": sort})
        assert response.status_code == 200
        assert run_ids(response) == expected_order(runs, "-created")[:PAGE_SIZE]


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "eyJhIjoxfQ:1abc:xyz", "", "." * 300],
)
def test_tampered_cursor_gives_the_first_page(client, bob, runs, project, cursor):
    client.force_login(bob)
    response = client.get(url_of(project), {"cursor": cursor})
    assert response.status_code == 200
    assert run_ids(response) == expected_order(runs, "-created")[:PAGE_SIZE]


def test_altered_cursor_gives_the_first_page(client, bob, runs, project):
    client.force_login(bob)
    url = url_of(project)
    link = pager_link(client.get(url), "next")
    cursor = link.partition("cursor=")[2]
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    response = client.get(url, {"cursor": flipped})
    assert response.status_code == 200
    assert run_ids(response) == expected_order(runs, "-created")[:PAGE_SIZE]
    # A genuine cursor made for another sort is not applied to this one either.
    response = client.get(url, {"cursor": cursor, "sort": "name"})
    assert run_ids(response) == expected_order(runs, "name")[:PAGE_SIZE]


def test_sort_header_links_toggle(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(url_of(project), {"sort": "runtime"})
    links = response.context["sort_links"]
    assert links["runtime"] == "-runtime"
    assert links["name"] == "name"
    assert links["created"] == "-created"


# Extra columns


def test_extra_column_shows_summary_values(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(url_of(project), {"col": "summary.loss", "sort": "-summary.loss"})
    body = response.content.decode()
    assert 'title="summary.loss"' in body
    assert 'aria-label="Remove column summary.loss"' in body
    top = max(r.summary["loss"] for r in runs if "loss" in r.summary)
    first_run, cells = response.context["rows"][0]
    assert first_run.summary["loss"] == top
    assert cells == [f"{top:.4g}"]
    # Runs without the key show an empty cell.
    last = walk(client, url_of(project), {"col": "summary.loss", "sort": "-summary.loss"})[-1]
    assert last.context["rows"][-1][1] == [""]


def test_offered_columns_come_from_the_runs_keys(client, bob, runs, project):
    client.force_login(bob)
    keys = client.get(url_of(project)).context["keys"]
    # Keys starting with "_" are internal to the client.
    assert keys == {"summary": ["acc", "loss"], "config": ["epochs", "lr", "optimizer"]}


def test_bad_extra_columns_are_ignored(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(
        url_of(project),
        {"col": ["password", "summary.a__b", "config.lr", "config.lr", "history.x"]},
    )
    assert response.status_code == 200
    assert [column["key"] for column in response.context["columns"]] == ["config.lr"]


# htmx


def test_htmx_request_gets_the_table_partial(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(
        url_of(project),
        {"state": "failed"},
        headers={"HX-Request": "true", "HX-Target": "runs-region"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="runs-table"' in body
    assert 'id="filters"' in body
    assert response.context["page"].total == 30


def test_htmx_request_for_another_target_gets_the_page(client, bob, runs, project):
    client.force_login(bob)
    response = client.get(url_of(project), headers={"HX-Request": "true", "HX-Target": "body"})
    assert "<html" in response.content.decode()


# Query counts: a fixed number whatever the number of runs.


def build_public_project(size):
    """open-team (not private): alice admin, bob member; a public project with `size` runs."""
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    team = TeamFactory(name="open-team", creator=alice)
    add_member(team, bob)
    project = ProjectFactory(entity=team, creator=alice, name="open", visibility="public")
    ProjectFactory(entity=team, creator=alice, name="other")
    make_runs(project, [alice, bob, None], size)
    add_alerts(project)
    return {"bob": bob, "anonymous": None, "project": project}


def add_alerts(project):
    for run in project.runs.order_by("pk")[:3]:
        Alert.objects.create(run=run, title=f"alert of {run.run_id}", text="text")


# Member: session, user, project with its entity, the viewer's entity permissions (guardian),
# the check for quiet runs, the ids of the keys the query and sort read, count, the page's
# place in the index of values (these tests sort by a summary key), its runs (authors
# joined), column keys, the count of the trash, move targets, writable entities, the saved
# views of the Views menu. Anonymous: no session or user rows, no permissions, no move targets.
QUERIES = {"bob": 14, "anonymous": 9}
# The whole page adds recent alerts, artifact collections (none here: their versions are
# counted in artifacts/tests/test_project_page.py), the metrics the workspace can chart and, for
# a signed-in person, their saved workspace; the table region alone (htmx) does not.
PAGE_EXTRA_QUERIES = {"bob": 4, "anonymous": 3}


@pytest.mark.parametrize("size", [10, 1000])
@pytest.mark.parametrize("who", ["bob", "anonymous"])
def test_runs_table_costs_fixed_queries(client, db, django_assert_num_queries, size, who):
    cast = build_public_project(size)
    if cast[who] is not None:
        client.force_login(cast[who])
    url = url_of(cast["project"])
    params = {"sort": "-summary.loss", "col": ["summary.loss", "config.lr"], "state": "finished"}
    client.get(url, params)  # warm process-wide caches (content types), as in a server
    with django_assert_num_queries(QUERIES[who] + PAGE_EXTRA_QUERIES[who]):
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(response.context["rows"]) == min(PAGE_SIZE, size // 4 + (size % 4 > 1))
    assert len(response.context["alerts"]) == 3
    link = pager_link(response, "next")
    if link:
        with django_assert_num_queries(QUERIES[who] + PAGE_EXTRA_QUERIES[who]):
            assert client.get(url + link).status_code == 200
    with django_assert_num_queries(QUERIES[who]):
        htmx = client.get(url, params, headers={"HX-Request": "true", "HX-Target": "runs-region"})
    assert "<html" not in htmx.content.decode()


@pytest.mark.parametrize("tag", ["Sweep", "ünïcode", 'say "hi"'])
def test_filter_by_tag_is_exact_for_case_accents_and_quotes(client, bob, project, tag):
    RunFactory(project=project, author=bob, run_id="wanted", tags=[tag, "other"])
    RunFactory(project=project, author=bob, run_id="unwanted", tags=[tag.swapcase() + "x"])
    client.force_login(bob)

    response = client.get(url_of(project), {"tag": tag})

    assert run_ids(response) == ["wanted"]


# Nested summaries: W&B keeps `{"final": {"nested": {"x": 1}}}`; the table names `final.nested.x`.


def nested_runs(project):
    """Runs whose `final.nested.x` is nested, written with a dot, or missing."""
    runs = []
    for i in range(120):
        x = (i * 7) % 30
        if i % 6 == 0:
            summary = {"acc": 1}
        elif i % 6 == 1:
            summary = {"final.nested.x": x}
        else:
            summary = {"final": {"nested": {"x": x}, "img": {"_type": "image-file", "path": "a"}}}
        runs.append(RunFactory.build(project=project, run_id=f"n{i:03d}", summary=summary))
    return Run.objects.bulk_create(runs)


def nested_x(run):
    return run.summary.get(
        "final.nested.x", run.summary.get("final", {}).get("nested", {}).get("x")
    )


@pytest.mark.parametrize("sort", ["summary.final.nested.x", "-summary.final.nested.x"])
def test_a_nested_summary_key_sorts_and_pages_every_run_once(client, bob, project, sort):
    runs = nested_runs(project)
    client.force_login(bob)
    pages = walk(client, url_of(project), {"sort": sort, "col": "summary.final.nested.x"})
    ids = [i for page in pages for i in run_ids(page)]

    present = sorted(
        (r for r in runs if nested_x(r) is not None), key=lambda r: (nested_x(r), r.pk)
    )
    missing = sorted((r for r in runs if nested_x(r) is None), key=lambda r: r.pk)
    if sort.startswith("-"):
        present.reverse()
        missing.reverse()
    assert ids == [r.run_id for r in present + missing]
    by_id = {r.run_id: r for r in runs}
    first = pages[0].context["rows"][0]
    assert first[1] == [nested_x(by_id[first[0].run_id])]


def test_nested_summary_keys_are_offered_by_their_dotted_path(client, bob, project):
    nested_runs(project)
    client.force_login(bob)
    keys = client.get(url_of(project)).context["keys"]
    # An object with a `_type` (an image) is one column, not flattened.
    assert keys["summary"] == ["acc", "final.img", "final.nested.x"]
