"""Property: whatever filters and order a client sends to `runs`, the answer is 200 or a 400
that says why, in JSON, never a 500: on runs whose config and summary hold every kind of value."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runs.models import Run

from .test_fuzz import FUZZ, assert_contract, basic, demo, rolled_back, snapshot, text, values
from .test_graphql import OPS

pytestmark = pytest.mark.django_db

__all__ = ["demo"]  # the fixture, shared with the other fuzz tests

field_names = st.sampled_from(
    [
        "state",
        "tags",
        "display_name",
        "displayName",
        "name",
        "username",
        "group",
        "jobType",
        "createdAt",
        "heartbeatAt",
        "sweep",
        "config.lr",
        "config.lr.value",
        "config.opt",
        "summary_metrics.acc",
        "summary_metrics.final.loss",
        "summary_metrics.val.loss",
        "summary_metrics.",
    ]
) | text.map(lambda name: f"summary_metrics.{name}")
operators = st.sampled_from(
    ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex", "$exists", "$not"]
) | st.sampled_from(["$options", "$where", "$size", "$and"])
operands = (
    values
    | st.sampled_from(["2026-11-01T00:00:00", "2026-11-01T00:00:00+05:00", "(", "^a.*", "[z-a]"])
    | st.lists(values | st.sampled_from(["finished", "a"]), max_size=4)
)
conditions = st.dictionaries(operators, operands, min_size=1, max_size=3) | operands
filters = st.recursive(
    st.dictionaries(field_names, conditions, max_size=3),
    lambda inner: (
        st.dictionaries(
            st.sampled_from(["$and", "$or", "$nor"]), st.lists(inner, max_size=3), max_size=2
        )
        | st.fixed_dictionaries({"$not": inner})
        | st.dictionaries(field_names, st.fixed_dictionaries({"$not": conditions}), max_size=2)
    ),
    max_leaves=10,
)
orders = st.sampled_from(
    ["-created_at", "+summary_metrics.acc", "config.lr.value", "-heartbeatAt", "tags", "x"]
) | text.map(lambda name: f"-summary_metrics.{name}")


@pytest.fixture
def runs(demo, alice):
    summaries = [
        {"acc": 0.9, "final": {"loss": 0.1}, "val.loss": 1, "big": 2**70},
        {"acc": "high", "final": 3, "flag": True, "list": [1, 2], "none": None},
        {},
    ]
    configs = [{"lr": 0.01, "opt": "adam"}, {"lr": "0.1", "opt": {"name": "sgd"}}, {}]
    return [
        Run.objects.create(
            project=demo, author=alice, run_id=f"r{i}", config=config, summary=summary, tags=["a"]
        )
        for i, (config, summary) in enumerate(zip(configs, summaries, strict=True))
    ]


def test_runs_answers_any_filters_with_200_or_a_clear_400(client, runs, alice_key):
    headers = {"Authorization": basic(alice_key)}

    @settings(FUZZ, max_examples=150)
    @given(filters=filters | values, order=orders | st.none())
    def check(filters, order):
        variables = {
            "entity": "example-team",
            "project": "demo",
            "filters": json.dumps(filters),
            "order": order,
        }

        def post():
            before = snapshot()
            payload = json.dumps({"query": OPS["Runs"], "variables": variables})
            response = client.post("/graphql", payload, "application/json", headers=headers)
            assert response.status_code in (200, 400), response.content[:500]
            assert_contract(response, before)

        rolled_back(post)

    check()
