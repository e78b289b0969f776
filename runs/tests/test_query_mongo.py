"""The client's MongoDB-style filters and orders, translated to the run-query tree."""

from datetime import UTC, datetime

import pytest

from runs.query import (
    And,
    Compare,
    Exists,
    HasTag,
    In,
    Not,
    Or,
    QueryError,
    Regex,
    from_mongo,
    parse_order,
)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"state": "finished"}, Compare("state", "=", "finished")),
        ({"state": {"$eq": "finished"}}, Compare("state", "=", "finished")),
        ({"state": {"$ne": "finished"}}, Compare("state", "!=", "finished")),
        ({"display_name": "a"}, Compare("name", "=", "a")),
        ({"displayName": "a"}, Compare("name", "=", "a")),
        ({"name": "abc123"}, Compare("run_id", "=", "abc123")),
        ({"username": "bob"}, Compare("author", "=", "bob")),
        ({"group": "g"}, Compare("group", "=", "g")),
        ({"jobType": "eval"}, Compare("job_type", "=", "eval")),
        ({"config.lr": 0.1}, Compare("config.lr", "=", 0.1)),
        ({"config.lr.value": {"$lte": 0.1}}, Compare("config.lr", "<=", 0.1)),
        ({"config.arch.layers.value": 3}, Compare("config.arch.layers", "=", 3)),
        ({"summary_metrics.acc": {"$gt": 0.9}}, Compare("summary.acc", ">", 0.9)),
        ({"summary_metrics.acc": {"$gte": 0.9}}, Compare("summary.acc", ">=", 0.9)),
        ({"summary_metrics.acc": {"$lt": 0.9}}, Compare("summary.acc", "<", 0.9)),
        ({"summary_metrics.final.loss": None}, Compare("summary.final.loss", "=", None)),
        ({"state": {"$in": ["a", "b"]}}, In("state", ("a", "b"))),
        ({"state": {"$nin": ["a"]}}, In("state", ("a",), negate=True)),
        ({"display_name": {"$regex": "^base"}}, Regex("name", "^base")),
        ({"display_name": {"$regex": "x", "$options": "i"}}, Regex("name", "(?i)x")),
        ({"summary_metrics.acc": {"$exists": False}}, Exists("summary.acc", False)),
        ({"summary_metrics.acc": {"$not": {"$gt": 1}}}, Not(Compare("summary.acc", ">", 1))),
        ({"display_name": {"$not": "^x"}}, Not(Regex("name", "^x"))),
        ({"tags": "best"}, HasTag("best")),
        ({"tags": {"$ne": "best"}}, Not(HasTag("best"))),
        ({"tags": {"$in": ["a", "b"]}}, In("tags", ("a", "b"))),
        ({"tags": {"$nin": ["a"]}}, In("tags", ("a",), negate=True)),
        (
            {"createdAt": {"$gt": "2026-11-01T00:00:00"}},
            Compare("created_at", ">", datetime(2026, 11, 1, tzinfo=UTC)),
        ),
        (
            {"heartbeatAt": {"$lt": "2026-11-01T12:00:00+01:00"}},
            Compare("heartbeat_at", "<", datetime(2026, 11, 1, 11, tzinfo=UTC)),
        ),
        (
            {"summary_metrics.acc": {"$gt": 0.5, "$lt": 0.9}},
            And((Compare("summary.acc", ">", 0.5), Compare("summary.acc", "<", 0.9))),
        ),
    ],
)
def test_each_operator_and_field(filters, expected):
    assert from_mongo(filters) == expected


def test_logical_operators_nest():
    node = from_mongo(
        {
            "$or": [
                {"$and": [{"state": "finished"}, {"config.lr": {"$lte": 0.01}}]},
                {"$nor": [{"tags": "a"}, {"username": "bob"}]},
            ],
            "$not": {"group": "g"},
        }
    )

    assert node == And(
        (
            Or(
                (
                    And((Compare("state", "=", "finished"), Compare("config.lr", "<=", 0.01))),
                    Not(Or((HasTag("a"), Compare("author", "=", "bob")))),
                )
            ),
            Not(Compare("group", "=", "g")),
        )
    )
    assert from_mongo({}) == And(())


@pytest.mark.parametrize(
    ("filters", "fragment"),
    [
        ([], "JSON object"),
        ({"notes": "x"}, "“notes”"),
        ({"sweeps": "abc"}, "“sweeps”"),
        ({"config.": 1}, "“config.”"),
        ({"$where": "1"}, "$where"),
        ({"state": {"$where": 1}}, "$where"),
        ({"state": {"$gt": "a", "$size": 1}}, "$size"),
        ({"$and": {}}, "list"),
        ({"$or": []}, "non-empty"),
        ({"$and": ["x"]}, "JSON object"),
        ({"state": {"$in": "a"}}, "list"),
        ({"state": {"$eq": ["a"]}}, "single value"),
        ({"config.lr": {"a": 1}}, "operators"),
        ({"config.lr": [1]}, "operators"),
        ({"summary_metrics.acc": {"$exists": 1}}, "true or false"),
        ({"display_name": {"$regex": 1}}, "text"),
        ({"display_name": {"$regex": "x", "$options": "m"}}, "“i”"),
        ({"display_name": {"$options": "i"}}, "$regex"),
        ({"createdAt": {"$gt": "last week"}}, "last week"),
        ({"createdAt": {"$gt": 1700000000}}, "dates"),
        ({"tags": {"$gt": "a"}}, "Tags"),
        ({"tags": 3}, "tag"),
    ],
)
def test_what_the_translator_refuses(filters, fragment):
    with pytest.raises(QueryError, match=fragment.replace("$", r"\$")):
        from_mongo(filters)


def test_refusals_name_the_field_as_the_client_sent_it():
    with pytest.raises(QueryError, match=r"^summary_metrics\.acc: "):
        from_mongo({"summary_metrics.acc": {"$lt": [1]}})


def test_hostile_nesting_and_size_are_refused():
    deep = {"state": "x"}
    for _ in range(60):
        deep = {"$and": [deep]}
    with pytest.raises(QueryError, match="deeper"):
        from_mongo(deep)
    negations = {"$gt": 1}
    for _ in range(60):
        negations = {"$not": negations}
    with pytest.raises(QueryError, match="deeper"):
        from_mongo({"summary_metrics.a": negations})
    with pytest.raises(QueryError, match="more than"):
        from_mongo({"$or": [{"state": str(i)} for i in range(600)]})
    with pytest.raises(QueryError, match="more than"):
        from_mongo({"state": {"$in": [str(i) for i in range(600)]}})


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (None, ("created_at", True)),
        ("", ("created_at", True)),
        ("+created_at", ("created_at", False)),
        ("created_at", ("created_at", False)),
        ("-createdAt", ("created_at", True)),
        ("-heartbeatAt", ("heartbeat_at", True)),
        ("+summary_metrics.loss", ("summary.loss", False)),
        ("-summary_metrics.final.loss", ("summary.final.loss", True)),
        ("config.lr", ("config.lr", False)),
        ("-config.lr.value", ("config.lr", True)),
        ("display_name", ("name", False)),
        ("-name", ("run_id", True)),
    ],
)
def test_orders(order, expected):
    assert parse_order(order) == expected


@pytest.mark.parametrize("order", ["tags", "-notes", "+commit", "summary_metrics."])
def test_unknown_orders_are_refused(order):
    with pytest.raises(QueryError, match="Ordering runs by"):
        parse_order(order)
