"""Input the machine endpoints must refuse with a 4xx JSON error, writing nothing, or store in a
form both databases hold: file_stream bodies, GraphQL variables, request sizes, and the JSON the
endpoints answer with."""

import json

import pytest

from artifacts.models import Artifact
from projects.services import project_create
from runs.ingest import CONSOLE_FILE, HISTORY_FILE, MAX_DEPTH, SUMMARY_FILE
from runs.models import ConsoleLine, MetricKey, Point, RichValue, Run

from .test_artifacts_api import create_artifact
from .test_file_stream import error_of, stored
from .test_graphql import (
    CORE_UPSERT_VARIABLES,
    basic,
    core_upsert,
    gql,
    ingest,
    ok,
    refused,
    run_vars,
)

pytestmark = pytest.mark.django_db

FFFD = "\ufffd"


def strict_json(content: bytes):
    """The body parsed as strict JSON: NaN and Infinity are not JSON."""

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(content, parse_constant=refuse)


def nested(depth: int, leaf="x") -> str:
    return "[" * depth + json.dumps(leaf) + "]" * depth


@pytest.fixture
def demo(team, alice):
    return project_create(entity=team, name="demo", creator=alice)


@pytest.fixture
def make_run(demo):
    def make(author, run_id):
        return Run.objects.create(
            project=demo, author=author, run_id=run_id, state=Run.State.RUNNING
        )

    return make


@pytest.fixture
def alices_run(make_run, alice):
    return make_run(alice, "a6opolcx")


@pytest.fixture
def post(client):
    def post(run, payload, key, *, raw=None):
        return client.post(
            f"/files/{run.project.entity.name}/{run.project.name}/{run.run_id}/file_stream",
            json.dumps(payload) if raw is None else raw,
            content_type="application/json",
            headers={"Authorization": basic(key)},
        )

    return post


# file_stream


def test_lone_surrogates_are_stored_as_the_replacement_character(post, alices_run, alice_key):
    # JSON's "\ud800" escape decodes to a character no UTF-8 text can hold; like NUL, it is
    # kept as U+FFFD so the line the user logged is not lost.
    payload = {
        "files": {
            CONSOLE_FILE: {"offset": 0, "content": ["\ud800"]},
            HISTORY_FILE: {"offset": 0, "content": ['{"k\\udc00": 1, "t": "a\\ud800b"}']},
            SUMMARY_FILE: {"offset": 0, "content": ['{"s": ["\\udfff"]}']},
        }
    }

    response = post(alices_run, payload, alice_key)

    assert response.status_code == 200, response.content
    assert ConsoleLine.objects.get(run=alices_run).text == FFFD
    assert MetricKey.objects.filter(name=f"k{FFFD}").exists()
    assert RichValue.objects.get(run=alices_run, key__name="t").value == f"a{FFFD}b"
    alices_run.refresh_from_db()
    assert alices_run.summary == {"s": [FFFD]}


def test_a_value_nested_past_the_parser_is_400_and_writes_nothing(post, alices_run, alice_key):
    line = '{"deep": ' + nested(100_000) + "}"
    payload = {"files": {HISTORY_FILE: {"offset": 0, "content": ['{"loss": 1}', line]}}}
    rows = stored()

    response = post(alices_run, payload, alice_key)

    assert "nested" in error_of(response, 400)
    assert stored() == rows


def test_a_body_nested_past_the_parser_is_400(post, alices_run, alice_key):
    rows = stored()

    response = post(alices_run, None, alice_key, raw=nested(100_000))

    assert "nested" in error_of(response, 400)
    assert stored() == rows


@pytest.mark.parametrize("file", [HISTORY_FILE, SUMMARY_FILE])
def test_a_value_nested_past_the_stored_depth_is_400(post, alices_run, alice_key, file):
    line = '{"deep": ' + nested(MAX_DEPTH + 1) + "}"
    rows = stored()

    response = post(alices_run, {"files": {file: {"offset": 0, "content": [line]}}}, alice_key)

    assert f"more than {MAX_DEPTH} levels" in error_of(response, 400)
    assert stored() == rows


def test_a_value_at_the_stored_depth_is_kept(post, alices_run, alice_key):
    line = '{"deep": ' + nested(MAX_DEPTH - 1) + "}"
    files = {HISTORY_FILE: {"content": [line]}, SUMMARY_FILE: {"content": [line]}}

    response = post(alices_run, {"files": files}, alice_key)

    assert response.status_code == 200, response.content
    assert RichValue.objects.filter(run=alices_run, key__name="deep").exists()
    alices_run.refresh_from_db()
    assert alices_run.summary == json.loads(line)


@pytest.mark.parametrize("exitcode", [2**80, 2**31, -(2**31) - 1])
def test_an_exit_code_out_of_range_is_400_and_writes_nothing(post, alices_run, alice_key, exitcode):
    rows = stored()

    response = post(alices_run, {"complete": True, "exitcode": exitcode}, alice_key)

    assert "exitcode" in error_of(response, 400)
    assert stored() == rows


def test_an_infinite_runtime_is_not_the_runs_runtime(post, alices_run, alice_key):
    line = json.dumps({"_runtime": float("inf"), "loss": 1.0})

    response = post(alices_run, {"files": {HISTORY_FILE: {"content": [line]}}}, alice_key)

    assert response.status_code == 200
    alices_run.refresh_from_db()
    assert alices_run.runtime is None


# GraphQL


@pytest.fixture
def logged_run(make_run, alice):
    return ingest(make_run(alice, "logged"), history=[{"loss": 1.0}, {"loss": 0.5}])


@pytest.mark.parametrize(
    "spec",
    [
        {"keys": ["loss"], "samples": "abc"},
        {"keys": ["loss"], "samples": True},
        {"keys": ["loss"], "samples": 1.5},
        {"keys": ["loss"], "samples": 2**80},
        {"keys": "loss"},
        ["loss"],
    ],
)
def test_a_sampled_history_spec_that_is_not_one_is_400(client, logged_run, alice_key, spec):
    variables = {**run_vars(logged_run), "specs": [json.dumps(spec)]}

    message = refused(gql(client, alice_key, "RunSampledHistory", variables), 400)

    assert "spec" in message or "samples" in message


def runs_variables(**more):
    return {"entity": "example-team", "project": "demo", "filters": "{}", **more}


@pytest.mark.parametrize("cursor", ["99999999999999999999999", str(2**63)])
def test_a_cursor_past_any_page_is_400(client, logged_run, alice_key, cursor):
    response = gql(client, alice_key, "Runs", runs_variables(cursor=cursor))

    assert "cursor" in refused(response, 400)


@pytest.mark.parametrize("depth", [3_000, MAX_DEPTH])
def test_filters_nested_too_deeply_are_400(client, logged_run, alice_key, depth):
    filters = '{"name": "logged"}'
    for _ in range(depth):
        filters = '{"$and": [' + filters + "]}"

    response = gql(client, alice_key, "Runs", runs_variables(filters=filters))

    assert "nested" in refused(response, 400)


def test_filters_within_the_depth_still_filter(client, logged_run, alice_key):
    filters = '{"name": "logged"}'
    for _ in range(10):
        filters = '{"$and": [' + filters + "]}"

    data = ok(gql(client, alice_key, "Runs", runs_variables(filters=filters)))

    assert [edge["node"]["name"] for edge in data["project"]["runs"]["edges"]] == ["logged"]


@pytest.mark.parametrize("step", ["99999999999999999999999999", 2**63, -(2**63) - 1])
def test_an_artifact_history_step_out_of_range_is_400(client, logged_run, alice_key, step):
    response = create_artifact(client, alice_key, run="logged", historyStep=step)

    assert "Int64" in refused(response, 400)
    assert not Artifact.objects.exists()


@pytest.mark.parametrize("variable", ["minStep", "maxStep"])
def test_a_history_page_bound_out_of_range_is_400(client, logged_run, alice_key, variable):
    variables = {**run_vars(logged_run, "run"), "minStep": 0, "maxStep": 5, "pageSize": 50}

    response = gql(client, alice_key, "HistoryPage", {**variables, variable: 2**64})

    assert "Int64" in refused(response, 400)


def test_a_logged_config_keeps_surrogates_as_the_replacement_character(client, demo, alice_key):
    config = json.dumps({"lr": {"value": "\ud800"}})  # the escape, inside the JSON text

    ok(core_upsert(client, alice_key, name="surrogate", config=config))

    assert Run.objects.get(run_id="surrogate").config == {"lr": FFFD}


@pytest.mark.parametrize("variables", [{"notes": "a\ud800b"}, {"tags": ["\udc00"]}])
def test_names_and_settings_with_a_lone_surrogate_are_400(client, demo, alice_key, variables):
    # A stand-in character would change what the client refers to: refused, not rewritten.
    response = core_upsert(client, alice_key, name="surrogate", **variables)

    assert "not valid Unicode" in refused(response, 400)
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    "variables", [{"notes": "a\x00b"}, {"tags": ["\x00"]}, {"project": "de\x00mo"}]
)
def test_graphql_text_with_a_nul_character_is_400(client, demo, alice_key, variables):
    # PostgreSQL can neither store nor compare it.
    response = core_upsert(client, alice_key, name="nul", **variables)

    assert "NUL" in refused(response, 400)
    assert not Run.objects.exists()


def test_graphql_variables_nested_too_deeply_are_400(client, demo, alice_key):
    deep = json.loads(nested(MAX_DEPTH + 1))

    response = core_upsert(client, alice_key, name="deep", tags=deep)

    assert "nested" in refused(response, 400)
    assert not Run.objects.exists()


# Request sizes


def test_a_config_over_django_s_upload_limit_is_stored(client, demo, alice_key, settings):
    config = {"table": {"value": "x" * (3 * 1024 * 1024)}}
    assert len(json.dumps(config)) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    ok(core_upsert(client, alice_key, name="bigconfig", config=json.dumps(config)))

    assert Run.objects.get(run_id="bigconfig").config == {"table": config["table"]["value"]}


def test_a_graphql_body_over_the_limit_is_413_and_writes_nothing(client, demo, alice_key, settings):
    variables = {**CORE_UPSERT_VARIABLES, "name": "toobig"}
    settings.GRAPHQL_MAX_BYTES = 1000
    body = json.dumps({"query": "mutation { x }", "variables": variables, "pad": "x" * 1000})

    response = client.post(
        "/graphql",
        body,
        content_type="application/json",
        headers={"Authorization": basic(alice_key)},
    )

    assert "1000 bytes" in refused(response, 413)
    assert not Run.objects.exists()


def test_a_file_stream_body_over_django_s_upload_limit_is_stored(
    post, alices_run, alice_key, settings
):
    lines = [f"{'x' * 1000} {i}" for i in range(3000)]
    payload = {"files": {CONSOLE_FILE: {"offset": 0, "content": lines}}}
    assert len(json.dumps(payload)) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    assert post(alices_run, payload, alice_key).status_code == 200

    assert ConsoleLine.objects.filter(run=alices_run).count() == 3000


# Answers are strict JSON


def test_a_runs_non_finite_numbers_are_strict_json_in_the_json_api(client, logged_run, alice_key):
    Run.objects.filter(pk=logged_run.pk).update(runtime=float("inf"))

    response = client.get(
        "/api/v1/projects/example-team/demo/runs", headers={"Authorization": basic(alice_key)}
    )

    assert response.status_code == 200
    assert strict_json(response.content)["runs"][0]["runtime"] is None


def test_graphql_answers_are_strict_json(client, make_run, alice, alice_key):
    run = ingest(make_run(alice, "nan"), history=[{"loss": float("nan")}, {"loss": 1.0}])
    specs = [json.dumps({"keys": ["loss"], "samples": 10})]

    response = gql(client, alice_key, "RunSampledHistory", {**run_vars(run), "specs": specs})

    assert response.status_code == 200
    assert strict_json(response.content)["data"]["project"]["run"]["sampledHistory"] == [
        [{"loss": None}, {"loss": 1.0}]
    ]
    assert Point.objects.filter(run=run).count() == 2
