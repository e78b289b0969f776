"""The runs endpoints of the JSON API: list and query, move and delete, authenticated by API key,
with the same rights as the browser and every error as JSON {"detail": "..."}."""

import re
from base64 import b64encode
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiKey
from projects.services import project_create
from runs.models import Run
from runs.selectors import PAGE_SIZE
from teams.models import AuditEvent
from tests.factories import api_key_for

pytestmark = pytest.mark.django_db

BASE = "/api/v1/projects"
START = timezone.now() - timedelta(days=1)


def basic(key, username="api"):
    return {"Authorization": "Basic " + b64encode(f"{username}:{key}".encode()).decode()}


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def make_runs(project, author, count, *, prefix="run", start=0, **fields):
    """`count` runs, newest last, ids prefix-<n>."""
    return Run.objects.bulk_create(
        Run(
            project=project,
            author=author,
            run_id=f"{prefix}-{n}",
            name=f"{prefix} {n}",
            created_at=START + timedelta(seconds=n),
            **fields,
        )
        for n in range(start, start + count)
    )


def run_ids(project):
    return set(Run.objects.filter(project=project).values_list("run_id", flat=True))


@pytest.fixture
def mnist(team, alice):
    return project_create(entity=team, name="mnist", creator=alice)


@pytest.fixture
def cifar(team, alice):
    return project_create(entity=team, name="cifar", creator=alice)


@pytest.fixture
def alice_scratch(alice):
    return project_create(entity=alice.personal_entity, name="scratch", creator=alice)


@pytest.fixture
def api(client):
    """GET and POST (JSON) with the given key, Basic by default."""

    class Api:
        def get(self, path, key=None, params=None, headers=None):
            return client.get(
                f"{BASE}/{path}", params or {}, headers=headers or (basic(key) if key else {})
            )

        def post(self, path, body, key=None, headers=None):
            return client.post(
                f"{BASE}/{path}",
                body,
                content_type="application/json",
                headers=headers or (basic(key) if key else {}),
            )

    return Api()


def assert_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body["detail"]


# Authentication


def test_request_without_a_key_is_401_json(api, mnist):
    response = api.get("example-team/mnist/runs")

    assert "API key" in assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "headers",
    [
        basic("ts-not-a-real-key"),
        bearer("ts-not-a-real-key"),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Token something"},
    ],
)
def test_request_with_a_bad_key_is_401_json(api, mnist, headers):
    response = api.get("example-team/mnist/runs", headers=headers)

    assert assert_error(response, 401) == "Invalid API key."


def test_basic_auth_needs_the_user_name_api(api, mnist, alice_key):
    response = api.get("example-team/mnist/runs", headers=basic(alice_key, username="alice"))

    assert_error(response, 401)


@pytest.mark.parametrize("scheme", [basic, bearer])
def test_basic_and_bearer_both_authenticate(api, mnist, alice, alice_key, scheme):
    make_runs(mnist, alice, 2)

    response = api.get("example-team/mnist/runs", headers=scheme(alice_key))

    assert response.status_code == 200
    assert response.json()["total"] == 2
    assert ApiKey.objects.get(user=alice).last_used_at is not None


def test_revoked_key_no_longer_authenticates(api, mnist, alice, alice_key):
    ApiKey.objects.filter(user=alice).delete()

    assert_error(api.get("example-team/mnist/runs", alice_key), 401)


def test_a_browser_session_does_not_authenticate_the_api(client, api, mnist, alice):
    client.force_login(alice)

    assert_error(api.get("example-team/mnist/runs"), 401)


# Listing


def test_list_returns_runs_with_their_fields(api, mnist, alice, alice_key):
    make_runs(
        mnist,
        alice,
        1,
        state=Run.State.FINISHED,
        runtime=12.5,
        tags=["baseline"],
        config={"lr": 0.1},
        summary={"loss": 0.25},
    )

    response = api.get("example-team/mnist/runs", alice_key)

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert body["next_cursor"] is None and body["prev_cursor"] is None
    [run] = body["runs"]
    assert run == {
        "run_id": "run-0",
        "name": "run 0",
        "state": "finished",
        "author": "alice",
        "created_at": run["created_at"],
        "runtime": 12.5,
        "tags": ["baseline"],
        "config": {"lr": 0.1},
        "summary": {"loss": 0.25},
        "url": "http://testserver/example-team/mnist/runs/run-0/",
    }
    assert run["created_at"].startswith(START.strftime("%Y-%m-%dT%H:%M"))


def test_list_filters_by_state_tag_author_and_text(api, mnist, alice, bob, bob_key):
    make_runs(mnist, alice, 3, prefix="alice", state=Run.State.FINISHED, tags=["big"])
    make_runs(mnist, bob, 2, prefix="bob", state=Run.State.FAILED, tags=["small"])
    make_runs(mnist, bob, 1, prefix="sweep", state=Run.State.FAILED, tags=["big", "sweep"])

    def ids(**params):
        body = api.get("example-team/mnist/runs", bob_key, params).json()
        assert body["total"] == len(body["runs"])
        return {run["run_id"] for run in body["runs"]}

    assert ids(state="failed") == {"bob-0", "bob-1", "sweep-0"}
    assert ids(tag="big") == {"alice-0", "alice-1", "alice-2", "sweep-0"}
    assert ids(author="alice") == {"alice-0", "alice-1", "alice-2"}
    assert ids(q="sweep") == {"sweep-0"}
    assert ids(state="failed", tag="big", author="bob") == {"sweep-0"}
    assert ids(author="nobody") == set()


def test_list_sorts_by_a_summary_key(api, mnist, alice, alice_key):
    for run_id, loss in [("a", 0.5), ("b", 0.1), ("c", 0.9)]:
        Run.objects.create(project=mnist, author=alice, run_id=run_id, summary={"loss": loss})
    Run.objects.create(project=mnist, author=alice, run_id="no-loss", summary={})

    def order(sort):
        body = api.get("example-team/mnist/runs", alice_key, {"sort": sort}).json()
        return [run["run_id"] for run in body["runs"]]

    assert order("-summary.loss") == ["c", "a", "b", "no-loss"]
    assert order("summary.loss") == ["b", "a", "c", "no-loss"]
    assert order("name") == ["a", "b", "c", "no-loss"]


@pytest.mark.parametrize("sort", ["-created", "-summary.loss", "name"])
def test_following_next_cursor_visits_every_run_once(api, mnist, alice, alice_key, sort):
    runs = make_runs(mnist, alice, 2 * PAGE_SIZE + 7)
    for n, run in enumerate(runs):
        # Ties and missing values, so the keyset must break ties by primary key.
        run.summary = {"loss": n % 5} if n % 4 else {}
    Run.objects.bulk_update(runs, ["summary"])

    seen, cursor, pages = [], None, []
    while True:
        params = {"sort": sort, **({"cursor": cursor} if cursor else {})}
        body = api.get("example-team/mnist/runs", alice_key, params).json()
        assert body["total"] == len(runs)
        pages.append(body)
        seen += [run["run_id"] for run in body["runs"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert len(pages) == 3
    assert len(seen) == len(set(seen)) == len(runs)
    assert set(seen) == {run.run_id for run in runs}
    # And back: the last page's prev_cursor gives the middle page again.
    back = api.get(
        "example-team/mnist/runs", alice_key, {"sort": sort, "cursor": pages[-1]["prev_cursor"]}
    ).json()
    assert [run["run_id"] for run in back["runs"]] == [run["run_id"] for run in pages[1]["runs"]]


def test_list_refuses_an_unknown_sort_a_foreign_cursor_and_an_unknown_state(
    api, mnist, alice, alice_key
):
    make_runs(mnist, alice, PAGE_SIZE + 1)
    cursor = api.get("example-team/mnist/runs", alice_key).json()["next_cursor"]

    assert "sort" in assert_error(
        api.get("example-team/mnist/runs", alice_key, {"sort": "-password"}), 400
    )
    assert "cursor" in assert_error(
        api.get("example-team/mnist/runs", alice_key, {"sort": "name", "cursor": cursor}), 400
    )
    assert "cursor" in assert_error(
        api.get("example-team/mnist/runs", alice_key, {"cursor": "garbage"}), 400
    )
    assert "state" in assert_error(
        api.get("example-team/mnist/runs", alice_key, {"state": "sleeping"}), 422
    )


def test_list_shows_runs_that_went_quiet_as_crashed(api, mnist, alice, alice_key, settings):
    settings.RUN_HEARTBEAT_TIMEOUT = 600
    now = timezone.now()
    make_runs(
        mnist, alice, 1, prefix="quiet", state="running", heartbeat_at=now - timedelta(hours=1)
    )
    make_runs(mnist, alice, 1, prefix="live", state="running", heartbeat_at=now)

    response = api.get("example-team/mnist/runs", alice_key, {"sort": "name"})

    states = {run["run_id"]: run["state"] for run in response.json()["runs"]}
    assert states == {"live-0": "running", "quiet-0": "crashed"}


@pytest.mark.parametrize("count", [10, 200])
def test_list_costs_the_same_queries_for_10_and_200_runs(
    api, mnist, alice, alice_key, django_assert_num_queries, count
):
    make_runs(mnist, alice, count, tags=["t"], summary={"loss": 1.0})

    # The address's failed-key count (the cache), key lookup and last-used time, project, the
    # caller's permissions, the project's check for quiet runs, the sort key's id, count, the
    # page's place in the index of summary values, its runs.
    with django_assert_num_queries(10):
        response = api.get("example-team/mnist/runs", alice_key, {"sort": "-summary.loss"})

    assert response.status_code == 200
    assert len(response.json()["runs"]) == min(count, PAGE_SIZE)


def test_outsider_gets_404_on_private_project(api, mnist, alice, charlie_key):
    make_runs(mnist, alice, 3)

    list_response = api.get("example-team/mnist/runs", charlie_key)
    move_response = api.post(
        "example-team/mnist/runs/move",
        {"target": "charlie/anything", "filter": {}},
        charlie_key,
    )
    delete_response = api.post("example-team/mnist/runs/delete", {"filter": {}}, charlie_key)

    for response in (list_response, move_response, delete_response):
        assert assert_error(response, 404) == "No such project."
    assert Run.objects.filter(project=mnist).count() == 3


def test_unknown_project_is_404(api, alice_key):
    assert_error(api.get("example-team/nope/runs", alice_key), 404)
    assert_error(api.get("nobody/nope/runs", alice_key), 404)


def test_service_account_lists_its_teams_runs(api, mnist, alice, sam_and_key):
    make_runs(mnist, alice, 2)
    _, sam_key = sam_and_key

    response = api.get("example-team/mnist/runs", sam_key)

    assert response.status_code == 200
    assert response.json()["total"] == 2


def test_outsider_lists_a_public_project(api, public_team, alice, charlie_key):
    project = project_create(entity=public_team, name="demo", creator=alice, visibility="public")
    make_runs(project, alice, 2)

    response = api.get("open-team/demo/runs", charlie_key)

    assert response.status_code == 200
    assert response.json()["total"] == 2


# Moving


def test_admin_moves_runs_by_id_and_the_move_is_audited(api, team, mnist, cifar, alice, bob):
    make_runs(mnist, alice, 3, prefix="a")
    make_runs(mnist, bob, 2, prefix="b")

    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/cifar", "run_ids": ["a-0", "b-1"]},
        api_key_for(alice),
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"moved": 2, "target": "example-team/cifar"}
    assert run_ids(cifar) == {"a-0", "b-1"}
    assert run_ids(mnist) == {"a-1", "a-2", "b-0"}
    moved_out = AuditEvent.objects.get(entity=team, verb=AuditEvent.Verb.RUNS_MOVED_OUT)
    moved_in = AuditEvent.objects.get(entity=team, verb=AuditEvent.Verb.RUNS_MOVED_IN)
    assert moved_out.actor == alice and moved_out.target == "example-team/mnist"
    assert moved_out.details == {"count": 2, "to": "example-team/cifar"}
    assert moved_in.target == "example-team/cifar"
    assert moved_in.details == {"count": 2, "source": "example-team/mnist"}


def test_admin_moves_runs_by_filter(api, mnist, cifar, alice, bob, alice_key):
    make_runs(mnist, alice, 3, prefix="ok", state=Run.State.FINISHED)
    make_runs(mnist, bob, 2, prefix="bad", state=Run.State.FAILED, tags=["broken"])
    make_runs(mnist, alice, 1, prefix="crash", state=Run.State.CRASHED, tags=["broken"])

    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/cifar", "filter": {"tag": "broken", "state": "failed"}},
        alice_key,
    )

    assert response.json() == {"moved": 2, "target": "example-team/cifar"}
    assert run_ids(cifar) == {"bad-0", "bad-1"}
    assert run_ids(mnist) == {"ok-0", "ok-1", "ok-2", "crash-0"}


def test_an_empty_filter_moves_every_run(api, mnist, cifar, alice, bob, alice_key):
    make_runs(mnist, alice, 3, prefix="a")
    make_runs(mnist, bob, 2, prefix="b")

    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/cifar", "filter": {}},
        alice_key,
    )

    assert response.json()["moved"] == 5
    assert run_ids(mnist) == set()
    assert len(run_ids(cifar)) == 5


def test_member_cannot_move_someone_elses_runs(api, mnist, cifar, alice, bob, bob_key):
    make_runs(mnist, alice, 2, prefix="a")
    make_runs(mnist, bob, 2, prefix="b")

    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/cifar", "run_ids": ["a-0", "b-0"]},
        bob_key,
    )

    assert "only change runs you logged" in assert_error(response, 403)
    assert run_ids(mnist) == {"a-0", "a-1", "b-0", "b-1"}
    assert run_ids(cifar) == set()
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.RUNS_MOVED_OUT).exists()


def test_member_moves_their_own_runs(api, mnist, cifar, alice, bob, bob_key):
    make_runs(mnist, alice, 2, prefix="a")
    make_runs(mnist, bob, 2, prefix="b")

    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/cifar", "filter": {"author": "bob"}},
        bob_key,
    )

    assert response.json() == {"moved": 2, "target": "example-team/cifar"}
    assert run_ids(cifar) == {"b-0", "b-1"}


@pytest.mark.parametrize(
    "target",
    [
        "alice/scratch",  # exists, alice's personal entity: bob cannot write there
        "open-team/demo",  # public, bob may read it but not write
        "example-team/no-such-project",
        "nobody/nothing",
    ],
)
def test_target_the_user_cannot_write_to_is_404_and_nothing_moves(
    api, mnist, alice_scratch, public_team, alice, bob, bob_key, target
):
    project_create(entity=public_team, name="demo", creator=alice, visibility="public")
    make_runs(mnist, bob, 2)

    response = api.post("example-team/mnist/runs/move", {"target": target, "filter": {}}, bob_key)

    # The same answer whether the project exists or not.
    assert assert_error(response, 404) == "Target project not found."
    assert run_ids(mnist) == {"run-0", "run-1"}
    assert run_ids(alice_scratch) == set()


def test_runs_move_across_entities_and_back(api, team, mnist, alice_scratch, alice, bob, alice_key):
    make_runs(mnist, alice, 2, prefix="a")
    make_runs(mnist, bob, 1, prefix="b")

    there = api.post(
        "example-team/mnist/runs/move",
        {"target": "alice/scratch", "run_ids": ["a-0", "b-0"]},
        alice_key,
    )

    assert there.json() == {"moved": 2, "target": "alice/scratch"}
    assert run_ids(alice_scratch) == {"a-0", "b-0"}
    assert AuditEvent.objects.filter(
        entity=team, verb=AuditEvent.Verb.RUNS_MOVED_OUT, details__to="alice/scratch"
    ).exists()
    assert AuditEvent.objects.filter(
        entity=alice.personal_entity, verb=AuditEvent.Verb.RUNS_MOVED_IN
    ).exists()

    back = api.post(
        "alice/scratch/runs/move",
        {"target": "example-team/mnist", "filter": {}},
        alice_key,
    )

    assert back.json() == {"moved": 2, "target": "example-team/mnist"}
    assert run_ids(mnist) == {"a-0", "a-1", "b-0"}
    assert run_ids(alice_scratch) == set()
    assert Run.objects.get(project=mnist, run_id="b-0").author == bob


def test_clashing_run_ids_are_409_naming_them_and_nothing_moves(
    api, mnist, cifar, alice, alice_key
):
    make_runs(mnist, alice, 4)
    make_runs(cifar, alice, 2, start=2)  # run-2 and run-3 exist in both

    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/cifar", "filter": {}},
        alice_key,
    )

    detail = assert_error(response, 409)
    assert "run-2" in detail and "run-3" in detail
    assert "run-0" not in detail
    assert run_ids(mnist) == {"run-0", "run-1", "run-2", "run-3"}
    assert run_ids(cifar) == {"run-2", "run-3"}


def test_unknown_run_ids_are_400_naming_them_and_nothing_moves(api, mnist, cifar, alice, alice_key):
    make_runs(mnist, alice, 2)

    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/cifar", "run_ids": ["run-0", "ghost", "run-1", "phantom"]},
        alice_key,
    )

    detail = assert_error(response, 400)
    assert "ghost" in detail and "phantom" in detail and "run-0" not in detail
    assert run_ids(cifar) == set()


def test_a_filter_matching_nothing_is_400(api, mnist, cifar, alice, alice_key):
    make_runs(mnist, alice, 2)

    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/cifar", "filter": {"state": "crashed"}},
        alice_key,
    )

    assert "No runs" in assert_error(response, 400)


def test_moving_into_the_same_project_is_400(api, mnist, alice, alice_key):
    make_runs(mnist, alice, 2)

    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/mnist", "filter": {}},
        alice_key,
    )

    assert_error(response, 400)


def test_service_account_cannot_move_runs(api, mnist, cifar, alice, sam_and_key):
    make_runs(mnist, alice, 2)
    _, sam_key = sam_and_key

    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/cifar", "filter": {}},
        sam_key,
    )

    assert "Service accounts" in assert_error(response, 403)
    assert run_ids(cifar) == set()


def test_outsider_cannot_move_runs_out_of_a_public_project(
    api, public_team, alice, charlie, charlie_key
):
    project = project_create(entity=public_team, name="demo", creator=alice, visibility="public")
    project_create(entity=charlie.personal_entity, name="mine", creator=charlie)
    make_runs(project, alice, 2)

    response = api.post(
        "open-team/demo/runs/move", {"target": "charlie/mine", "filter": {}}, charlie_key
    )

    assert_error(response, 403)
    assert run_ids(project) == {"run-0", "run-1"}


# Deleting


def test_admin_deletes_runs_by_id_and_the_deletion_is_audited(api, team, mnist, alice, bob):
    make_runs(mnist, bob, 3)

    response = api.post(
        "example-team/mnist/runs/delete", {"run_ids": ["run-0", "run-2"]}, api_key_for(alice)
    )

    assert response.json() == {"deleted": 2, "trashed": 2, "restorable_days": 30}
    assert run_ids(mnist) == {"run-1"}
    event = AuditEvent.objects.get(entity=team, verb=AuditEvent.Verb.RUNS_DELETED)
    assert event.actor == alice and event.details == {"count": 2}


def test_member_deletes_own_runs_by_filter(api, mnist, alice, bob, bob_key):
    make_runs(mnist, alice, 2, prefix="a", state=Run.State.FAILED)
    make_runs(mnist, bob, 2, prefix="b", state=Run.State.FAILED)

    response = api.post(
        "example-team/mnist/runs/delete",
        {"filter": {"state": "failed", "author": "bob"}},
        bob_key,
    )

    assert response.json() == {"deleted": 2, "trashed": 2, "restorable_days": 30}
    assert run_ids(mnist) == {"a-0", "a-1"}


def test_member_cannot_delete_someone_elses_runs(api, mnist, alice, bob, bob_key):
    make_runs(mnist, alice, 1, prefix="a")
    make_runs(mnist, bob, 1, prefix="b")

    response = api.post("example-team/mnist/runs/delete", {"filter": {}}, bob_key)

    assert_error(response, 403)
    assert run_ids(mnist) == {"a-0", "b-0"}


def test_service_account_cannot_delete_runs(api, mnist, alice, sam_and_key):
    make_runs(mnist, alice, 1)

    response = api.post("example-team/mnist/runs/delete", {"filter": {}}, sam_and_key[1])

    assert_error(response, 403)
    assert run_ids(mnist) == {"run-0"}


def test_deleting_unknown_run_ids_is_400_and_nothing_is_deleted(api, mnist, alice, alice_key):
    make_runs(mnist, alice, 2)

    response = api.post(
        "example-team/mnist/runs/delete", {"run_ids": ["run-0", "ghost"]}, alice_key
    )

    assert "ghost" in assert_error(response, 400)
    assert run_ids(mnist) == {"run-0", "run-1"}


# Malformed requests


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        ({"target": "example-team/cifar"}, 422),  # neither run_ids nor filter
        ({"target": "example-team/cifar", "run_ids": ["run-0"], "filter": {}}, 422),  # both
        ({"target": "example-team/cifar", "run_ids": []}, 422),
        ({"target": "example-team/cifar", "run_ids": "run-0"}, 422),
        ({"target": "example-team/cifar", "filter": {"stat": "failed"}}, 422),  # misspelt
        ({"target": "example-team/cifar", "filter": {"state": "sleeping"}}, 422),
        ({"target": "cifar", "filter": {}}, 422),
        ({"run_ids": ["run-0"]}, 422),  # no target
        ({"target": "example-team/cifar", "filter": {}, "dry_run": True}, 422),
        ([1, 2, 3], 422),
    ],
)
def test_malformed_move_body_is_4xx_json_and_nothing_moves(
    api, mnist, cifar, alice, alice_key, body, status
):
    make_runs(mnist, alice, 2)

    response = api.post("example-team/mnist/runs/move", body, alice_key)

    assert_error(response, status)
    assert run_ids(mnist) == {"run-0", "run-1"}


def test_validation_errors_name_the_field(api, mnist, alice_key):
    response = api.post(
        "example-team/mnist/runs/move",
        {"target": "example-team/cifar", "filter": {"stat": "failed"}},
        alice_key,
    )

    assert "stat" in assert_error(response, 422)
    assert response.json()["errors"][0]["loc"] == ["body", "body", "filter", "stat"]


def test_wrong_method_and_unknown_endpoint_are_json(client, api, mnist, alice_key):
    wrong_method = api.get("example-team/mnist/runs/move", alice_key)
    unknown = client.get("/api/v1/nothing/here", headers=basic(alice_key))
    trailing_slash = api.get("example-team/mnist/runs/", alice_key)

    assert "POST" in assert_error(wrong_method, 405)
    assert_error(unknown, 404)
    assert_error(trailing_slash, 404)


def test_posts_need_no_csrf_token(mnist, cifar, alice, alice_key):
    from django.test import Client

    make_runs(mnist, alice, 1)
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        f"{BASE}/example-team/mnist/runs/move",
        {"target": "example-team/cifar", "filter": {}},
        content_type="application/json",
        headers=basic(alice_key),
    )

    assert response.json() == {"moved": 1, "target": "example-team/cifar"}


# Schema and docs


def test_openapi_schema_lists_the_endpoints_and_both_auth_schemes(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) >= {
        "/api/v1/projects/{entity}/{project}/runs",
        "/api/v1/projects/{entity}/{project}/runs/move",
        "/api/v1/projects/{entity}/{project}/runs/delete",
    }
    schemes = schema["components"]["securitySchemes"].values()
    assert {scheme["scheme"] for scheme in schemes} == {"basic", "bearer"}


def test_docs_load_only_the_sites_own_scripts_under_its_csp(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    html = response.text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.DOTALL)
    for attributes, content in scripts:
        # Either a file from our static folder or a JSON data block, which is never executed.
        if "src=" in attributes:
            assert re.search(r'src="/static/ninja/[\w.-]+\.js"', attributes)
            assert not content.strip()
        else:
            assert 'type="application/json"' in attributes
    assert "cdn" not in html.lower()
    assert re.search(r'href="/static/ninja/swagger-ui\.css"', html)


def test_openapi_says_to_give_exactly_one_of_run_ids_or_filter(client):
    schema = client.get("/api/v1/openapi.json").json()

    for name in ("RunSelection", "MoveIn"):
        model = schema["components"]["schemas"][name]
        assert "Exactly one of run_ids or filter" in model["description"]
        assert "Exactly one of run_ids or filter" in model["properties"]["run_ids"]["description"]
    for action in ("move", "delete"):
        operation = schema["paths"][f"{BASE}/{{entity}}/{{project}}/runs/{action}"]["post"]
        assert "exactly one of `run_ids` or `filter`" in operation["description"]


@pytest.mark.parametrize("body", [{}, {"run_ids": ["run-0"], "filter": {}}])
def test_delete_takes_exactly_one_of_run_ids_or_filter(api, mnist, alice, alice_key, body):
    make_runs(mnist, alice, 2)

    response = api.post("example-team/mnist/runs/delete", body, alice_key)

    assert "exactly one of run_ids or filter" in assert_error(response, 422)
    assert run_ids(mnist) == {"run-0", "run-1"}


# Text PostgreSQL can neither store nor compare


@pytest.mark.parametrize("run_id", ["a\x00b", "\ud800", "x\udfff"])
def test_run_ids_with_a_nul_or_a_lone_surrogate_are_422_and_move_nothing(
    api, mnist, cifar, alice, alice_key, run_id
):
    make_runs(mnist, alice, 2)
    before = run_ids(mnist)

    response = api.post(
        "example-team/mnist/runs/move",
        {"run_ids": ["run000", run_id], "target": "example-team/cifar"},
        alice_key,
    )

    assert_error(response, 422)
    assert run_ids(mnist) == before


@pytest.mark.parametrize(
    "path", ["example-team/mnist/runs?tag=a%00b", "example-team/mn%00ist/runs"]
)
def test_a_nul_character_in_the_address_is_a_json_400(api, mnist, alice_key, path):
    assert "NUL" in assert_error(api.get(path, alice_key), 400)


def test_a_nul_character_in_a_page_address_is_a_400_page(client, bob, mnist):
    client.force_login(bob)

    response = client.get("/example-team/mnist/?q=%00")

    assert response.status_code == 400
