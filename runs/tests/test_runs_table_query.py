"""The runs table's search box takes the query language: a query filters the table, a mistake
is shown under the box with its column marked while the table shows the runs without the query,
bulk actions never widen a bad query to every run, the query costs no extra database queries,
and the box suggests fields and the project's keys at the cursor."""

import html

import pytest

from runs.models import Run
from runs.query.complete import suggest
from tests.factories import ProjectFactory

from .test_runs_table import (
    PAGE_EXTRA_QUERIES,
    QUERIES,
    build_public_project,
    make_runs,
    run_ids,
    url_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def runs(project, alice, bob):
    return make_runs(project, [alice, bob, None], 40)


def expected(project, condition):
    return sorted(
        run.run_id
        for run in Run.objects.filter(project=project).select_related("author")
        if condition(run)
    )


def test_a_query_filters_the_table(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(
        url_of(project), {"q": 'summary.loss >= 2 and (state = failed or tags has "v2")'}
    )

    assert sorted(run_ids(response)) == expected(
        project,
        lambda run: (
            isinstance(run.summary.get("loss"), float)
            and run.summary["loss"] >= 2
            and (run.state == "failed" or "v2" in run.tags)
        ),
    )
    assert response.context["query_error"] is None


def test_plain_text_still_searches_names_and_ids(client, bob, project, runs):
    client.force_login(bob)

    assert sorted(run_ids(client.get(url_of(project), {"q": "GAMMA-2"}))) == expected(
        project, lambda run: "gamma-2" in run.name.lower()
    )
    assert run_ids(client.get(url_of(project), {"q": "r0011"})) == ["r0011"]


def test_a_mistake_shows_under_the_box_with_its_column_and_no_query_applied(
    client, bob, project, runs
):
    client.force_login(bob)

    response = client.get(url_of(project), {"q": "summary.loss >= and state = failed"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Expected a value after “&gt;=”, not “and” at column 17" in body
    assert 'id="query-error"' in body and 'aria-invalid="true"' in body
    # The column is marked in the echoed query, and the box keeps what was typed.
    assert "summary.loss &gt;= <mark>a</mark>nd state = failed" in body
    assert 'value="summary.loss &gt;= and state = failed"' in body
    # The table shows every run (the page of them), and no "matching" wording.
    assert response.context["page"].total == 40
    # The bulk form does not carry the bad query: "select all" means the runs shown.
    assert 'name="q"' not in body.split('id="bulk"', 1)[1].split("</form>", 1)[0]


def test_a_mistake_at_the_end_marks_the_place_after_it(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(url_of(project), {"q": "state ="})

    assert "Expected a value after “=” at column 8" in response.content.decode()
    assert "state =<mark> </mark>" in response.content.decode()


def test_the_htmx_table_region_shows_the_mistake_too(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(
        url_of(project),
        {"q": "stat = failed"},
        headers={"HX-Request": "true", "HX-Target": "runs-region"},
    )

    body = response.content.decode()
    assert "<html" not in body
    assert "did you mean “state”?" in body


def test_select_all_with_a_bad_query_deletes_nothing(client, alice, project, runs):
    client.force_login(alice)
    url = f"/{project.entity.name}/{project.name}/delete-runs/"

    response = client.post(url, {"select_all": "1", "q": "state = ", "confirm": "1"}, follow=True)

    assert "The filter&#x27;s query has a mistake" in response.content.decode()
    assert project.runs.count() == 40


def test_select_all_with_a_query_deletes_what_it_selects(client, alice, project, runs):
    client.force_login(alice)
    url = f"/{project.entity.name}/{project.name}/delete-runs/"
    doomed = expected(project, lambda run: run.state == "crashed")

    client.post(url, {"select_all": "1", "q": "state = crashed", "confirm": "1"})

    assert project.runs.count() == 40 - len(doomed)
    assert not project.runs.filter(run_id__in=doomed).exists()


@pytest.mark.parametrize(
    "q", ["config.lr <= 0.01 and summary.loss > 1 or tags has v2", "summary.loss >= and"]
)
@pytest.mark.parametrize("size", [10, 200])
def test_a_query_costs_no_extra_queries(client, db, django_assert_num_queries, q, size):
    cast = build_public_project(size)
    client.force_login(cast["bob"])
    url = url_of(cast["project"])
    params = {"q": q, "sort": "-summary.loss", "col": ["summary.loss"]}
    client.get(url, params)  # warm process-wide caches

    with django_assert_num_queries(QUERIES["bob"] + PAGE_EXTRA_QUERIES["bob"]):
        assert client.get(url, params).status_code == 200
    with django_assert_num_queries(QUERIES["bob"]):
        client.get(url, params, headers={"HX-Request": "true", "HX-Target": "runs-region"})


# Suggestions


def suggestions_url(project):
    return f"/{project.entity.name}/{project.name}/query-suggestions/"


def offered(response):
    body = html.unescape(response.content.decode())
    return [part.split('"', 1)[0] for part in body.split('data-insert="')[1:]]


def test_suggestions_offer_the_projects_keys_for_the_word_at_the_cursor(client, bob, project, runs):
    client.force_login(bob)
    Run.objects.filter(run_id="r0001").update(summary={"val acc": 1, "loss": 2})

    response = client.get(suggestions_url(project), {"q": "state = failed and summary.l"})

    assert offered(response) == ["summary.loss"]
    assert 'data-start="19" data-end="28"' in response.content.decode()
    assert "summary.`val acc`" in offered(client.get(suggestions_url(project), {"q": "val"}))
    words = offered(client.get(suggestions_url(project), {"q": "con and x = 1", "at": "3"}))
    assert words == ["config.epochs", "config.lr", "config.optimizer"]
    assert offered(client.get(suggestions_url(project), {"q": "st"})) == ["state"]


def test_suggestions_stay_quiet_where_no_field_goes(client, bob, project, runs):
    client.force_login(bob)

    for q in ["state = co", "", "resnet co", 'name = "abc', "config.lr in (co"]:
        response = client.get(suggestions_url(project), {"q": q})
        assert response.status_code == 200
        assert offered(response) == [], q
    response = client.get(suggestions_url(project), {"q": "co", "at": "not a number"})
    assert offered(response)


def test_suggestions_cost_one_query_for_the_keys(
    client, bob, project, runs, django_assert_num_queries
):
    client.force_login(bob)
    url = suggestions_url(project)
    client.get(url, {"q": "summary."})
    # Session, user, the project with its entity, the viewer's permissions: then the keys.
    with django_assert_num_queries(5):
        assert offered(client.get(url, {"q": "summary."}))
    with django_assert_num_queries(4):
        assert offered(client.get(url, {"q": "state = su"})) == []


def test_outsider_gets_404_on_suggestions_of_a_private_project(client, charlie, project):
    client.force_login(charlie)
    assert client.get(suggestions_url(project), {"q": "co"}).status_code == 404


def test_suggest_replaces_the_whole_word_under_the_cursor():
    completion = suggest("config.l = 1", 4, lambda: {"config": ["lr", "layers"], "summary": []})
    assert (completion.start, completion.end) == (0, 8)
    assert [s.text for s in completion.suggestions] == ["config.lr", "config.layers"]
    assert suggest("config.lr", 9, lambda: {"config": ["lr"]}) is None  # already complete
