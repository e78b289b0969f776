"""POST /files/<entity>/<project>/<run_id>/file_stream, what a running wandb client sends, through
the Django test client: authentication, who may log to a run, limits, and errors as JSON."""

import json
from base64 import b64encode
from datetime import timedelta

import pytest
from django.utils import timezone

from runs.history import history
from runs.ingest import CONSOLE_FILE, EVENTS_FILE, HISTORY_FILE, SUMMARY_FILE
from runs.models import ConsoleLine, MetricKey, Point, RichValue, Run
from teams import services
from teams.models import Role
from tests.factories import ProjectFactory, RunFactory, TeamFactory

OK = {"exitcode": None, "limits": {}}


def basic(key, username="api"):
    return {"Authorization": "Basic " + b64encode(f"{username}:{key}".encode()).decode()}


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def alices_run(project, alice):
    return RunFactory(
        project=project,
        run_id="a6opolcx",
        author=alice,
        state=Run.State.RUNNING,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )


@pytest.fixture
def bobs_run(project, bob):
    return RunFactory(
        project=project, run_id="bobs1", author=bob, state=Run.State.RUNNING, heartbeat_at=None
    )


@pytest.fixture
def post(client):
    def post(run, payload, key=None, *, raw=None, path=None, headers=None):
        url = (
            path or f"/files/{run.project.entity.name}/{run.project.name}/{run.run_id}/file_stream"
        )
        data = raw if raw is not None else json.dumps(payload)
        return client.post(
            url,
            data,
            content_type="application/json",
            headers=headers if headers is not None else (basic(key) if key else {}),
        )

    return post


def history_chunk(start, stop, offset=None):
    rows = [
        {"_step": step, "loss": 1 / (step + 1), "epoch": step // 10, "_runtime": step * 0.1}
        for step in range(start, stop)
    ]
    return {"offset": start if offset is None else offset, "content": [json.dumps(r) for r in rows]}


def stored():
    return (
        Point.objects.count(),
        RichValue.objects.count(),
        ConsoleLine.objects.count(),
        MetricKey.objects.count(),
        list(
            Run.objects.order_by("pk").values_list(
                "state",
                "summary",
                "heartbeat_at",
                "history_line_count",
                "events_line_count",
                "console_line_count",
            )
        ),
    )


def error_of(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert body["errors"] == [{"message": body["error"]}]
    return body["error"]


# Success


def test_a_chunk_is_stored_and_answered_with_json(post, alices_run, alice_key):
    payload = {
        "files": {
            HISTORY_FILE: history_chunk(0, 3),
            EVENTS_FILE: {"offset": 0, "content": [json.dumps({"system.cpu": 12.5})]},
            SUMMARY_FILE: {"offset": 0, "content": [json.dumps({"_step": 2, "loss": 1 / 3})]},
            CONSOLE_FILE: {"offset": 0, "content": ["2026-11-25T11:48:46.460315 epoch 0"]},
        },
        "uploaded": ["wandb-metadata.json"],
    }

    response = post(alices_run, payload, alice_key)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == OK
    alices_run.refresh_from_db()
    assert [row["_step"] for row in history(alices_run)] == [0, 1, 2]
    assert history(alices_run)[2] == {"_step": 2, "loss": 1 / 3, "epoch": 0.0, "_runtime": 0.2}
    assert alices_run.summary == {"_step": 2, "loss": 1 / 3}
    assert (
        alices_run.history_line_count,
        alices_run.events_line_count,
        alices_run.console_line_count,
    ) == (3, 1, 1)
    assert alices_run.state == Run.State.RUNNING


def test_the_final_request_ends_the_run(post, alices_run, alice_key):
    response = post(alices_run, {"complete": True, "exitcode": 1}, alice_key)

    assert response.json() == OK
    alices_run.refresh_from_db()
    assert alices_run.state == Run.State.FAILED
    assert alices_run.exit_code == 1 and alices_run.finished_at is not None


@pytest.mark.parametrize("raw", ["{}", ""])
def test_an_empty_body_is_a_heartbeat(post, alices_run, alice_key, raw):
    before = alices_run.heartbeat_at
    rows = stored()[:4]

    response = post(alices_run, None, alice_key, raw=raw)

    assert response.json() == OK
    alices_run.refresh_from_db()
    assert alices_run.heartbeat_at > before
    assert timezone.now() - alices_run.heartbeat_at < timedelta(minutes=1)
    assert stored()[:4] == rows


@pytest.mark.parametrize("state", [Run.State.CRASHED, Run.State.PENDING])
def test_a_crashed_or_requeued_run_that_streams_again_is_running(
    post, alices_run, alice_key, state
):
    Run.objects.filter(pk=alices_run.pk).update(state=state)

    assert post(alices_run, {}, alice_key).status_code == 200

    alices_run.refresh_from_db()
    assert alices_run.state == Run.State.RUNNING


def test_a_replayed_request_changes_nothing(post, alices_run, alice_key):
    payload = {"files": {HISTORY_FILE: history_chunk(0, 20)}}
    post(alices_run, payload, alice_key)
    alices_run.refresh_from_db()
    rows, before = stored()[:4], history(alices_run)

    assert post(alices_run, payload, alice_key).json() == OK

    assert stored()[:4] == rows
    assert history(alices_run) == before


def test_the_entity_name_is_case_insensitive(post, alices_run, alice_key):
    response = post(
        alices_run, {}, alice_key, path="/files/Example-Team/resnet/a6opolcx/file_stream"
    )
    assert response.status_code == 200, response.content


def test_a_bearer_key_is_accepted(post, alices_run, alice_key):
    response = post(alices_run, {}, headers={"Authorization": f"Bearer {alice_key}"})
    assert response.status_code == 200


# Authentication


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("not-a-key"),
        basic("", username="api"),
        {"Authorization": "Basic !!!not base64"},
        {"Authorization": "Token whatever"},
    ],
    ids=["no key", "unknown key", "empty key", "bad base64", "other scheme"],
)
def test_without_a_valid_key_is_401(post, alices_run, headers):
    rows = stored()

    response = post(alices_run, {"files": {HISTORY_FILE: history_chunk(0, 2)}}, headers=headers)

    assert "API key" in error_of(response, 401)
    assert stored() == rows


def test_a_valid_key_with_another_basic_user_is_401(post, alices_run, alice_key):
    response = post(alices_run, {}, headers=basic(alice_key, username="alice"))
    error_of(response, 401)


def test_the_key_of_a_deactivated_user_is_401(post, alices_run, alice, alice_key):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    error_of(post(alices_run, {}, alice_key), 401)


# Who may log to a run


def test_an_outsider_gets_the_same_404_as_for_a_run_that_does_not_exist(
    post, alices_run, charlie_key, alice_key
):
    rows = stored()
    payload = {"files": {HISTORY_FILE: history_chunk(0, 2)}}

    hidden = post(alices_run, payload, charlie_key)
    missing = post(
        alices_run, payload, alice_key, path="/files/example-team/resnet/nope/file_stream"
    )
    no_project = post(
        alices_run, payload, alice_key, path="/files/example-team/other/a6opolcx/file_stream"
    )

    assert error_of(hidden, 404) == "Run example-team/resnet/a6opolcx not found."
    assert error_of(missing, 404) == "Run example-team/resnet/nope not found."
    assert error_of(no_project, 404) == "Run example-team/other/a6opolcx not found."
    assert hidden.json().keys() == missing.json().keys()
    assert stored() == rows


def test_a_member_who_is_not_the_author_is_403(post, alices_run, bob_key):
    rows = stored()

    response = post(alices_run, {"files": {HISTORY_FILE: history_chunk(0, 2)}}, bob_key)

    assert "author" in error_of(response, 403)
    assert stored() == rows


def test_a_member_may_log_to_their_own_run(post, bobs_run, bob_key):
    response = post(bobs_run, {"files": {HISTORY_FILE: history_chunk(0, 2)}}, bob_key)

    assert response.json() == OK
    assert len(history(bobs_run)) == 2


def test_an_admin_may_log_to_a_members_run(post, bobs_run, alice_key):
    assert post(bobs_run, {"files": {HISTORY_FILE: history_chunk(0, 2)}}, alice_key).json() == OK
    assert len(history(bobs_run)) == 2


def test_a_member_made_admin_may_log_to_others_runs(post, team, bob, alices_run, bob_key):
    assert post(alices_run, {}, bob_key).status_code == 403

    services.membership_set_role(membership=team.memberships.get(user=bob), role=Role.ADMIN)

    assert post(alices_run, {}, bob_key).json() == OK


def test_a_removed_member_gets_404_for_their_own_run(post, team, bob, bobs_run, bob_key):
    services.membership_remove(membership=team.memberships.get(user=bob))

    error_of(post(bobs_run, {}, bob_key), 404)


def test_the_teams_service_account_logs_to_the_run_it_created_for_a_member(
    post, bobs_run, sam_and_key
):
    sam, sam_key = sam_and_key
    Run.objects.filter(pk=bobs_run.pk).update(logged_by=sam)

    response = post(bobs_run, {"files": {HISTORY_FILE: history_chunk(0, 2)}}, sam_key)

    assert response.json() == OK
    assert len(history(bobs_run)) == 2


def test_the_teams_service_account_cannot_log_to_a_run_a_member_logged_himself(
    post, bobs_run, sam_and_key
):
    response = post(bobs_run, {"files": {HISTORY_FILE: history_chunk(0, 2)}}, sam_and_key[1])

    assert "author" in error_of(response, 403)
    assert history(bobs_run) == []


def test_the_service_account_stops_logging_for_a_member_who_left(
    post, bobs_run, sam_and_key, team, bob
):
    sam, sam_key = sam_and_key
    Run.objects.filter(pk=bobs_run.pk).update(logged_by=sam)
    services.membership_remove(membership=team.memberships.get(user=bob))

    response = post(bobs_run, {"files": {HISTORY_FILE: history_chunk(0, 2)}}, sam_key)

    assert "author" in error_of(response, 403)
    assert history(bobs_run) == []


def test_another_teams_service_account_gets_404(post, alices_run, charlie):
    other = TeamFactory(name="other-team", creator=charlie)
    _, key = services.service_account_create(entity=other, name="robot")

    error_of(post(alices_run, {}, key), 404)


# Limits and bad bodies


def test_a_body_over_the_byte_limit_is_413_and_writes_nothing(
    post, alices_run, alice_key, settings
):
    payload = {"files": {HISTORY_FILE: history_chunk(0, 50)}}
    settings.FILE_STREAM_MAX_BYTES = len(json.dumps(payload)) - 1
    rows = stored()

    response = post(alices_run, payload, alice_key)

    assert str(settings.FILE_STREAM_MAX_BYTES) in error_of(response, 413)
    assert stored() == rows


def test_a_body_at_the_byte_limit_is_accepted(post, alices_run, alice_key, settings):
    payload = {"files": {HISTORY_FILE: history_chunk(0, 50)}}
    settings.FILE_STREAM_MAX_BYTES = len(json.dumps(payload))

    assert post(alices_run, payload, alice_key).json() == OK


def test_too_many_lines_is_413_and_writes_nothing(post, alices_run, alice_key, settings):
    settings.FILE_STREAM_MAX_LINES = 10
    payload = {
        "files": {
            HISTORY_FILE: history_chunk(0, 6),
            CONSOLE_FILE: {"offset": 0, "content": [f"line {i}" for i in range(5)]},
        }
    }
    rows = stored()

    response = post(alices_run, payload, alice_key)

    assert "limit is 10" in error_of(response, 413)
    assert stored() == rows


@pytest.mark.parametrize(
    "raw",
    ['{"files": ', "not json", b"\xff\xfe{}", '{"files": {"wandb-history.jsonl": {]}}'],
    ids=["truncated", "text", "bytes", "broken"],
)
def test_invalid_json_is_400_with_a_json_error(post, alices_run, alice_key, raw):
    rows = stored()

    response = post(alices_run, None, alice_key, raw=raw)

    assert error_of(response, 400) == "The body must be JSON."
    assert stored() == rows


@pytest.mark.parametrize(
    "payload, message",
    [
        ([], "The body must be a JSON object."),
        ({"files": {"model.pt": {"content": []}}}, "Unknown file_stream file 'model.pt'."),
        (
            {"files": {HISTORY_FILE: {"offset": -1, "content": []}}},
            "offset must be a non-negative integer",
        ),
        ({"files": {HISTORY_FILE: {"content": ["{"]}}}, "line 0: not valid JSON"),
        ({"files": {HISTORY_FILE: {"content": ['{"_step": "x"}']}}}, "_step must be an integer"),
        ({"complete": True, "exitcode": "0"}, '"exitcode" must be an integer.'),
    ],
)
def test_a_bad_body_is_400_and_writes_nothing(post, alices_run, alice_key, payload, message):
    good = {"files": {HISTORY_FILE: history_chunk(0, 3)}}
    if isinstance(payload, dict):
        payload = {**payload, "files": {**good["files"], **payload.get("files", {})}}
    rows = stored()

    response = post(alices_run, payload, alice_key)

    assert message in error_of(response, 400)
    assert stored() == rows


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_are_405(client, alices_run, alice_key, method):
    response = getattr(client, method)(
        "/files/example-team/resnet/a6opolcx/file_stream", headers=basic(alice_key)
    )

    assert response.status_code == 405
    assert response["Allow"] == "POST"


# Queries


def lines_payload(start, count):
    return {
        "files": {
            HISTORY_FILE: history_chunk(start, start + count),
            EVENTS_FILE: {
                "offset": start,
                "content": [
                    json.dumps({"system.cpu": i % 100, "tag": f"t{i}"}) for i in range(count)
                ],
            },
            SUMMARY_FILE: {"content": [json.dumps({"_step": start + count - 1})]},
            CONSOLE_FILE: {"offset": start, "content": [f"line {i}" for i in range(count)]},
        }
    }


def test_the_number_of_queries_does_not_grow_with_lines(
    post, alices_run, alice_key, django_assert_num_queries, django_assert_max_num_queries
):
    # The first request creates the keys and records the key's use; later ones do neither.
    assert post(alices_run, lines_payload(0, 1), alice_key).status_code == 200

    # 4 of them keep the index of summary values (runs.values) true.
    with django_assert_max_num_queries(24) as small:
        assert post(alices_run, lines_payload(1, 10), alice_key).status_code == 200
    with django_assert_num_queries(len(small.captured_queries)):
        assert post(alices_run, lines_payload(11, 1000), alice_key).status_code == 200

    alices_run.refresh_from_db()
    assert alices_run.history_line_count == alices_run.events_line_count == 1011
    assert len(history(alices_run)) == 1011
    assert alices_run.console_line_count == 1011
    assert Point.objects.filter(run=alices_run, key__stream=MetricKey.Stream.EVENTS).count() == 1011
    assert RichValue.objects.filter(run=alices_run).count() == 1011
    assert ConsoleLine.objects.filter(run=alices_run).count() == 1011
