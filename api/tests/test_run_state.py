"""`run.update_state("pending" | "failed")` (updateRunState): the moves W&B allows, by whoever
may change the run, and a clear refusal for the rest."""

import pytest

from projects.services import project_create
from runs.models import Run
from tests.factories import api_key_for

from .test_graphql import gql, node_id, ok, refused

pytestmark = pytest.mark.django_db

UPDATE_STATE = """
mutation UpdateRunState($input: UpdateRunStateInput!) {
  updateRunState(input: $input) { success }
}
"""


@pytest.fixture
def run_of(team, alice):
    demo = project_create(entity=team, name="demo", creator=alice)

    def make(author, state=Run.State.RUNNING):
        return Run.objects.create(
            project=demo, author=author, run_id=f"r{Run.objects.count()}", state=state
        )

    return make


def update_state(client, key, run, state):
    variables = {"input": {"id": node_id("Run", run.pk), "state": state}}
    return gql(client, key, None, variables, query=UPDATE_STATE)


@pytest.mark.parametrize(
    "before, after",
    [
        ("running", "pending"),
        ("failed", "pending"),
        ("crashed", "pending"),
        ("running", "failed"),
        ("pending", "failed"),
    ],
)
def test_the_author_moves_a_run(client, run_of, bob, before, after):
    run = run_of(bob, before)

    assert ok(update_state(client, api_key_for(bob), run, after)) == {
        "updateRunState": {"success": True}
    }
    run.refresh_from_db()
    assert run.state == after


def test_a_run_marked_failed_has_finished(client, run_of, bob):
    run = run_of(bob)

    ok(update_state(client, api_key_for(bob), run, "failed"))

    run.refresh_from_db()
    assert run.finished_at is not None


@pytest.mark.parametrize(
    "before, after",
    [
        ("failed", "failed"),
        ("finished", "pending"),
        ("finished", "failed"),
        ("running", "finished"),
    ],
)
def test_other_moves_are_refused(client, run_of, bob, before, after):
    run = run_of(bob, before)

    message = refused(update_state(client, api_key_for(bob), run, after), 400)

    assert f"invalid state transition from {before} to {after}" in message
    run.refresh_from_db()
    assert run.state == before


def test_an_unknown_state_is_refused(client, run_of, bob):
    run = run_of(bob)

    assert "invalid state transition" in refused(
        update_state(client, api_key_for(bob), run, "exploded"), 400
    )


def test_an_admin_moves_anothers_run(client, run_of, alice, bob):
    run = run_of(bob)

    ok(update_state(client, api_key_for(alice), run, "pending"))

    run.refresh_from_db()
    assert run.state == Run.State.PENDING


def test_a_member_cannot_move_anothers_run(client, run_of, alice, bob):
    run = run_of(alice)

    refused(update_state(client, api_key_for(bob), run, "failed"), 403)
    run.refresh_from_db()
    assert run.state == Run.State.RUNNING


def test_an_outsider_does_not_find_the_run(client, run_of, bob, charlie):
    run = run_of(bob)

    assert refused(update_state(client, api_key_for(charlie), run, "failed"), 404) == (
        "Run not found."
    )
    run.refresh_from_db()
    assert run.state == Run.State.RUNNING


def test_a_bad_id_is_a_clear_error(client, run_of, bob):
    variables = {"input": {"id": "not-an-id", "state": "failed"}}

    response = gql(client, api_key_for(bob), None, variables, query=UPDATE_STATE)

    assert "is not a Run id" in refused(response, 404)
