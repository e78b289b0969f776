"""Property-based tests of the machine endpoints' contract: whatever the body, the answer is
below 500 and JSON, and a 4xx writes nothing. Each example runs in a savepoint that is rolled
back, so examples do not see one another's writes."""

import json
import re

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artifacts.models import Artifact, ArtifactFile
from projects.services import project_create
from runs.ingest import CONSOLE_FILE, EVENTS_FILE, HISTORY_FILE, SUMMARY_FILE
from runs.models import (
    Alert,
    ConsoleLine,
    MetricKey,
    Point,
    RichValue,
    Run,
    RunFile,
)

from .test_graphql import OPS, basic

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as clients never mean it but may send: controls, NUL, lone surrogates, astral planes.
text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["", "\x00", "\ud800", "a\udfffb", "NaN", "-1", "99999999999999999999999", "%_", "../x"]
)
numbers = st.integers() | st.floats() | st.sampled_from([2**63, -(2**63) - 1, 2**80, 2**53 + 1])
scalars = st.none() | st.booleans() | numbers | text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=12,
)


def deep(depth):
    return "[" * depth + "1" + "]" * depth


def json_line(row):
    return json.dumps(row)  # NaN and Infinity as the client writes them


rows = st.dictionaries(text | st.sampled_from(["_step", "_runtime", "loss"]), values, max_size=4)
lines = (
    rows.map(json_line)
    | text
    | st.sampled_from(["{", "[]", "null", '{"a": ' + deep(5000) + "}", '{"a": ' + deep(150) + "}"])
)
chunks = st.fixed_dictionaries(
    {},
    optional={
        "offset": st.integers(-2, 2**40) | st.sampled_from([2**80, "0", None, 1.5]),
        "content": st.lists(lines, max_size=4) | values,
    },
)
file_stream_bodies = st.fixed_dictionaries(
    {},
    optional={
        "files": st.dictionaries(
            st.sampled_from([HISTORY_FILE, EVENTS_FILE, SUMMARY_FILE, CONSOLE_FILE, "model.pt"]),
            chunks | values,
            max_size=4,
        )
        | values,
        "complete": st.booleans() | values,
        "exitcode": st.none() | numbers | text,
        "preempting": values,
        "dropped": values,
        "uploaded": st.lists(text, max_size=3) | values,
    },
)


def snapshot(run=None):
    """Row counts of everything the endpoints write, and the run's fields."""
    counts = [
        model.objects.count()
        for model in (
            Run,
            Point,
            RichValue,
            ConsoleLine,
            MetricKey,
            RunFile,
            Alert,
            Artifact,
            ArtifactFile,
        )
    ]
    fields = (
        list(Run.objects.filter(pk=run.pk).values().order_by("pk")) if run is not None else None
    )
    return counts, fields


def assert_contract(response, before, run=None):
    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response.content[:500]
    body = json.loads(response.content)
    if 400 <= response.status_code < 500:
        assert body["errors"][0]["message"]
        assert snapshot(run) == before, response.content[:500]
    return body


def rolled_back(check):
    """Run `check` in a savepoint and undo its writes."""
    try:
        with transaction.atomic():
            check()
            raise _Undo
    except _Undo:
        pass


class _Undo(Exception):
    pass


@pytest.fixture
def demo(team, alice):
    return project_create(entity=team, name="demo", creator=alice)


@pytest.fixture
def run(demo, alice):
    return Run.objects.create(project=demo, author=alice, run_id="fuzzed", state="running")


def test_file_stream_answers_any_body_below_500_and_writes_nothing_on_4xx(client, run, alice_key):
    url = "/files/example-team/demo/fuzzed/file_stream"
    headers = {"Authorization": basic(alice_key)}

    @FUZZ
    @given(body=file_stream_bodies | values)
    def check(body):
        def post():
            before = snapshot(run)
            response = client.post(url, json_line(body), "application/json", headers=headers)
            assert_contract(response, before, run)

        rolled_back(post)

    check()


# Variables of every operation the client sends, by name and by the variable's declared type.
ids = st.sampled_from(["example-team", "demo", "fuzzed", "QXJ0aWZhY3Q6MQ==", "UnVuOjE="])
strings = ids | text
json_strings = values.map(json.dumps) | text | st.sampled_from(['{"$and": ' + deep(3000) + "}"])
plausible = {
    "String": strings,
    "ID": strings,
    "JSONString": json_strings,
    "Int": st.integers(-(2**31), 2**31 - 1) | st.integers(),
    "Int64": st.integers() | text,
    "Boolean": st.booleans(),
    "Duration": numbers,
}


def variable_types(query):
    """{name: type} of an operation's declared variables, e.g. {"entity": "String!"}."""
    return dict(re.findall(r"\$(\w+)\s*:\s*([\[\]\w!]+)", query.split("{", 1)[0]))


def variable_value(declared):
    name = declared.strip("[]!")
    base = plausible.get(name, values)
    if name.endswith("Input"):
        base = st.dictionaries(strings, values, max_size=4) | input_objects
    if declared.startswith("["):
        base = st.lists(base, max_size=3)
    return base | values


input_objects = st.fixed_dictionaries(
    {
        "entityName": ids,
        "projectName": ids,
        "runName": ids,
        "artifactTypeName": strings,
        "artifactCollectionName": strings,
        "digest": strings,
        "artifactID": ids,
        "artifactManifestID": ids,
        "name": strings,
        "files": st.lists(strings, max_size=3),
        "title": strings,
        "text": strings,
    },
    optional={
        "historyStep": st.integers() | text,
        "metadata": json_strings,
        "aliases": values,
        "artifactFiles": values,
        "severity": strings,
        "waitDuration": numbers,
    },
)


@st.composite
def operations(draw):
    name = draw(st.sampled_from(sorted(OPS)))
    declared = variable_types(OPS[name])
    variables = {
        var: draw(variable_value(kind))
        for var, kind in declared.items()
        if draw(st.booleans()) or kind.endswith("!")
    }
    return name, variables


def test_graphql_answers_any_variables_below_500_and_writes_nothing_on_4xx(client, run, alice_key):
    headers = {"Authorization": basic(alice_key)}

    @settings(FUZZ, max_examples=120)
    @given(operation=operations())
    def check(operation):
        name, variables = operation

        def post():
            before = snapshot(run)
            payload = json_line({"query": OPS[name], "variables": variables})
            response = client.post("/graphql", payload, "application/json", headers=headers)
            assert_contract(response, before, run)

        rolled_back(post)

    check()


def test_json_api_answers_any_body_below_500_and_writes_nothing_on_4xx(client, run, alice_key):
    headers = {"Authorization": basic(alice_key)}
    base = "/api/v1/projects/example-team/demo/runs"

    @FUZZ
    @given(
        action=st.sampled_from(["move", "delete"]),
        body=st.fixed_dictionaries(
            {},
            optional={
                "run_ids": st.lists(strings, max_size=3) | values,
                "filter": st.dictionaries(
                    st.sampled_from(["state", "tag", "author", "q", "x"]), values
                )
                | values,
                "target": strings | st.sampled_from(["example-team/demo", "a/b"]),
            },
        )
        | values,
        # URLs carry UTF-8: no lone surrogates in a query string.
        query=st.dictionaries(
            st.sampled_from(["sort", "cursor", "state", "q", "tag"]),
            st.text(st.characters(codec="utf-8"), max_size=12),
        ),
    )
    def check(action, body, query):
        def call():
            before = snapshot(run)
            response = client.post(
                f"{base}/{action}", json_line(body), "application/json", headers=headers
            )
            assert response.status_code < 500, response.content[:500]
            json.loads(response.content, parse_constant=_not_json)
            if response.status_code >= 400:
                assert snapshot(run) == before
            listed = client.get(base, query, headers=headers)
            assert listed.status_code < 500, listed.content[:500]
            json.loads(listed.content, parse_constant=_not_json)

        rolled_back(call)

    check()


def _not_json(constant):
    raise AssertionError(f"{constant} is not JSON")
