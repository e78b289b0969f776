"""The run trash through the machine APIs: the JSON API's delete (to the trash), its trash
listing and restore; GraphQL's deleteRun, upsertBucket on a run id in the trash, the runs
lists; file_stream to a run in the trash."""

import json

import pytest

from projects.services import project_create
from runs import services
from runs.models import Point, Run
from teams.models import AuditEvent
from tests.factories import RunFactory

from .test_graphql import core_upsert, gql, node_id, ok, refused, runs_page
from .test_runs_api import BASE, basic

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_runs(team, alice, bob):
    """example-team/demo: alice's a1 and bob's b1, with a config and summary to index."""
    demo = project_create(entity=team, name="demo", creator=alice)
    return {
        "a1": RunFactory(project=demo, author=alice, run_id="a1", name="a1", summary={"acc": 0.9}),
        "b1": RunFactory(project=demo, author=bob, run_id="b1", name="b1", summary={"acc": 0.8}),
    }


@pytest.fixture
def api(client):
    """The JSON API with a key, as tests/test_runs_api.py's."""

    class Api:
        def get(self, path, key=None, params=None):
            return client.get(f"{BASE}/{path}", params or {}, headers=basic(key) if key else {})

        def post(self, path, body, key):
            return client.post(
                f"{BASE}/{path}",
                json.dumps(body),
                content_type="application/json",
                headers=basic(key),
            )

    return Api()


def trash(actor, *run_ids):
    runs = Run.objects.filter(run_id__in=run_ids)
    return services.runs_delete(actor=actor, project=runs.first().project, runs=runs)


# The JSON API


def test_delete_moves_runs_to_the_trash(api, demo_runs, alice_key):
    response = api.post("example-team/demo/runs/delete", {"run_ids": ["b1"]}, alice_key)

    assert response.status_code == 200
    assert response.json() == {"deleted": 1, "trashed": 1, "restorable_days": 30}
    assert Run.with_trashed.get(run_id="b1").trashed_at is not None
    listed = api.get("example-team/demo/runs", alice_key).json()
    assert [run["run_id"] for run in listed["runs"]] == ["a1"]


def test_the_trash_is_listed_newest_first(api, demo_runs, alice, bob_key):
    trash(alice, "a1")
    trash(alice, "b1")

    response = api.get("example-team/demo/runs/trash", bob_key)

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2 and body["next_offset"] is None
    assert [run["run_id"] for run in body["runs"]] == ["b1", "a1"]
    assert body["runs"][0]["trashed_by"] == "alice" and body["runs"][0]["author"] == "bob"
    assert body["runs"][0]["purged_after"] > body["runs"][0]["trashed_at"]


def test_the_trash_listing_refuses_a_negative_offset(api, demo_runs, alice_key):
    response = api.get("example-team/demo/runs/trash", alice_key, {"offset": -1})
    assert response.status_code == 422


def test_the_author_restores_through_the_api(api, demo_runs, bob, bob_key):
    trash(bob, "b1")

    response = api.post("example-team/demo/runs/restore", {"run_ids": ["b1"]}, bob_key)

    assert response.status_code == 200 and response.json() == {"restored": 1}
    assert Run.objects.filter(run_id="b1").exists()
    assert AuditEvent.objects.filter(verb=AuditEvent.Verb.RUNS_RESTORED).count() == 1


def test_a_member_cannot_restore_someone_elses_run(api, demo_runs, alice, bob_key):
    trash(alice, "a1")

    response = api.post("example-team/demo/runs/restore", {"run_ids": ["a1"]}, bob_key)

    assert response.status_code == 403
    assert "only restore runs you logged" in response.json()["detail"]
    assert not Run.objects.filter(run_id="a1").exists()


def test_restoring_a_run_not_in_the_trash_is_a_400(api, demo_runs, alice, alice_key):
    trash(alice, "a1")

    response = api.post("example-team/demo/runs/restore", {"run_ids": ["a1", "b1"]}, alice_key)

    assert response.status_code == 400
    assert (
        response.json()["detail"]
        == "The trash of example-team/demo has no runs with these ids: b1."
    )
    assert not Run.objects.filter(run_id="a1").exists()


def test_restore_takes_run_ids_only(api, demo_runs, alice, alice_key):
    trash(alice, "a1")
    response = api.post("example-team/demo/runs/restore", {"filter": {}}, alice_key)
    assert response.status_code == 422
    assert not Run.objects.filter(run_id="a1").exists()


def test_outsiders_and_anonymous_visitors_see_no_trash(api, demo_runs, alice, charlie_key):
    trash(alice, "a1")

    assert api.get("example-team/demo/runs/trash", charlie_key).status_code == 404
    restore = api.post("example-team/demo/runs/restore", {"run_ids": ["a1"]}, charlie_key)
    assert restore.status_code == 404
    assert api.get("example-team/demo/runs/trash").status_code == 401
    assert not Run.objects.filter(run_id="a1").exists()


def test_the_openapi_schema_lists_the_trash_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths[f"{BASE}/{{entity}}/{{project}}/runs/restore"]
    assert "get" in paths[f"{BASE}/{{entity}}/{{project}}/runs/trash"]


# GraphQL


def test_delete_run_puts_it_in_the_trash_and_again_is_done(client, demo_runs, bob, bob_key):
    run = demo_runs["b1"]
    mutation = "mutation D($id: ID!) { deleteRun(input: {id: $id}) { clientMutationId } }"

    ok(gql(client, bob_key, None, {"id": node_id("Run", run.pk)}, query=mutation))
    ok(gql(client, bob_key, None, {"id": node_id("Run", run.pk)}, query=mutation))

    run = Run.with_trashed.get(pk=run.pk)
    assert run.trashed_at is not None and run.trashed_by == bob
    assert AuditEvent.objects.filter(verb=AuditEvent.Verb.RUNS_DELETED).count() == 1


def test_graphql_runs_and_run_count_leave_trashed_runs_out(client, demo_runs, alice, alice_key):
    trash(alice, "a1")

    page = runs_page(client, alice_key)

    assert page["runCount"] == 1
    assert [edge["node"]["name"] for edge in page["runs"]["edges"]] == ["b1"]
    # By summary value, through the index of values.
    filtered = runs_page(client, alice_key, filters=json.dumps({"summary_metrics.acc": {"$gt": 0}}))
    assert filtered["runCount"] == 1


def test_logging_again_to_a_run_id_in_the_trash_is_refused(client, demo_runs, alice, alice_key):
    trash(alice, "a1")

    message = refused(core_upsert(client, alice_key, name="a1"), 400)

    assert "Run a1 was previously created and deleted" in message
    assert "Restore it from the trash or use a new run id" in message
    run = Run.with_trashed.get(run_id="a1")
    assert run.trashed_at is not None and run.name != "run-a"


# file_stream


def test_file_stream_to_a_run_in_the_trash_is_refused_and_writes_nothing(
    client, demo_runs, alice, alice_key
):
    trash(alice, "a1")
    payload = {"files": {"wandb-history.jsonl": {"offset": 0, "content": ['{"_step": 0, "x": 1}']}}}

    response = client.post(
        "/files/example-team/demo/a1/file_stream",
        json.dumps(payload),
        content_type="application/json",
        headers=basic(alice_key),
    )

    assert response.status_code == 404
    assert "is in the trash" in response.json()["error"]
    assert not Point.objects.filter(run_id=demo_runs["a1"].pk).exists()
