"""`GET .../runs?q=` takes the runs query language: a query selects runs as the table does, a
mistake is a JSON 400 with its message and column, and a bad query in a move or delete filter
moves and deletes nothing."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.services import project_create
from runs.models import Run
from tests.factories import RunFactory

from .test_runs_api import assert_error, basic

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/projects/example-team/mnist/runs"


@pytest.fixture
def mnist(team, alice, bob):
    project = project_create(entity=team, name="mnist", creator=alice)
    RunFactory(
        project=project,
        author=alice,
        run_id="a1",
        name="resnet-a",
        state=Run.State.FINISHED,
        tags=["baseline"],
        config={"lr": 0.01},
        summary={"val/acc": 0.95},
    )
    RunFactory(
        project=project,
        author=bob,
        run_id="b1",
        name="resnet-b",
        state=Run.State.FAILED,
        config={"lr": 0.1},
        summary={"val/acc": 0.5},
    )
    RunFactory(project=project, author=bob, run_id="c1", name="vgg", state=Run.State.FINISHED)
    return project


def ids(client, key, **params):
    response = client.get(RUNS, params, headers=basic(key))
    assert response.status_code == 200, response.content
    return sorted(run["run_id"] for run in response.json()["runs"])


def test_q_takes_the_query_language(client, mnist, alice_key):
    assert ids(client, alice_key, q="summary.val/acc >= 0.9") == ["a1"]
    assert ids(client, alice_key, q="config.lr > 0.05 or tags has baseline") == ["a1", "b1"]
    assert ids(client, alice_key, q='name ~ "^resnet" and not state = failed') == ["a1"]
    assert ids(client, alice_key, q="author = bob", state="finished") == ["c1"]


def test_plain_text_still_searches_names_and_ids(client, mnist, alice_key):
    assert ids(client, alice_key, q="resnet") == ["a1", "b1"]
    assert ids(client, alice_key, q="C1") == ["c1"]


@pytest.mark.parametrize(
    ("q", "message", "column"),
    [
        ("summary.val/acc>=", "Expected a value after “>=”", 18),
        ("stat = failed", "did you mean “state”?", 1),
        ("swep = x", "did you mean “sweep”", 1),
        ("x" * 1001, "longer than 1000 characters", 1001),
    ],
)
def test_a_mistake_is_a_400_with_its_column(client, mnist, alice_key, q, message, column):
    response = client.get(RUNS, {"q": q}, headers=basic(alice_key))

    detail = assert_error(response, 400)
    assert message in detail
    assert detail.endswith(f"at column {column}")
    assert response.json()["column"] == column


def test_a_query_with_a_mistake_moves_and_deletes_nothing(client, team, mnist, alice, alice_key):
    cifar = project_create(entity=team, name="cifar", creator=alice)
    headers = basic(alice_key)

    for action, body in [
        ("move", {"target": "example-team/cifar", "filter": {"q": "state = "}}),
        ("delete", {"filter": {"q": "state = "}}),
    ]:
        response = client.post(
            f"{RUNS}/{action}", body, content_type="application/json", headers=headers
        )
        assert "Expected a value after “=”" in assert_error(response, 400)
        assert response.json()["column"] == 9

    assert mnist.runs.count() == 3
    assert cifar.runs.count() == 0


def test_a_filter_query_moves_the_runs_it_selects(client, team, mnist, alice, alice_key):
    cifar = project_create(entity=team, name="cifar", creator=alice)
    body = {"target": "example-team/cifar", "filter": {"q": "config.lr exists"}}

    response = client.post(
        f"{RUNS}/move", body, content_type="application/json", headers=basic(alice_key)
    )

    assert response.status_code == 200, response.content
    assert sorted(cifar.runs.values_list("run_id", flat=True)) == ["a1", "b1"]


def test_openapi_documents_the_query_language(client):
    schema = client.get("/api/v1/openapi.json").json()
    parameters = schema["paths"]["/api/v1/projects/{entity}/{project}/runs"]["get"]["parameters"]
    q = next(parameter for parameter in parameters if parameter["name"] == "q")
    description = q.get("description") or q["schema"]["description"]
    assert "query language" in description
    assert "between A and B" in description


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=st.text(max_size=80))
def test_any_q_is_a_page_or_a_json_400(client, mnist, alice_key, q):
    response = client.get(RUNS, {"q": q}, headers=basic(alice_key))

    assert response.status_code in (200, 400, 422), response.content
    assert isinstance(response.json(), dict)
