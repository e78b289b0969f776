"""The leaderboard: the best run per group by a metric, or the top runs, computed in one query.

The best run of each group is picked by a window function (ROW_NUMBER over the group, ordered
by the metric and then the run's primary key, so ties always resolve the same way) and counted
by another (COUNT over the group), so the database returns one row per group whatever the
number of runs; SQLite and PostgreSQL both run it."""

import json
from dataclasses import dataclass

from django.db.models import Case, Count, F, Field, Value, When, Window
from django.db.models.functions import RowNumber

from . import query
from .models import Run
from .query.json_keys import JSONKeyValue, json_key_is
from .query.nodes import MAX_TEXT, json_key
from .selectors import RunFilter

GOALS = ("max", "min")
# Run fields a leaderboard groups by, besides config and summary keys.
GROUP_FIELDS = {"group": "group", "job_type": "job_type", "state": "state", "author": "author"}
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
MAX_GROUPS = 500


class LeaderboardError(ValueError):
    """A parameter the leaderboard cannot use; its message is shown as it is."""


class _Decoded(Field):
    """A JSON value as Python reads it: PostgreSQL sends jsonb as JSON text, SQLite sends
    numbers as numbers and text as text."""

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str) and connection.vendor == "postgresql":
            return json.loads(value)
        return value


class _DecodedKeyValue(JSONKeyValue):
    output_field = _Decoded()


@dataclass(frozen=True)
class Board:
    metric: str
    goal: str
    group: str
    limit: int
    q: str

    @classmethod
    def from_params(cls, params) -> "Board":
        metric = params.get("metric", "").strip()
        goal = params.get("goal", "max").strip() or "max"
        group = params.get("group", "").strip()
        text = params.get("q", "")
        if not metric:
            raise LeaderboardError("Choose a metric: a summary or config key.")
        if _key(metric, "metric") is None:
            raise LeaderboardError(f"The metric must be a summary or config key, not “{metric}”.")
        if goal not in GOALS:
            raise LeaderboardError(f"The goal is “max” or “min”, not “{goal[:20]}”.")
        if group and group not in GROUP_FIELDS and _key(group, "group") is None:
            raise LeaderboardError(
                f"Group by a config or summary key or by {', '.join(GROUP_FIELDS)},"
                f" not “{group[:MAX_TEXT]}”."
            )
        try:
            limit = int(params.get("limit") or DEFAULT_LIMIT)
        except ValueError:
            raise LeaderboardError("The number of runs shown must be a whole number.") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise LeaderboardError(f"Show between 1 and {MAX_LIMIT} runs.")
        try:
            query.to_q(RunFilter(q=text).query() if text.strip() else query.And(()))
        except query.QueryError as error:
            raise LeaderboardError(f"The query has a mistake: {error}") from None
        return cls(metric=metric, goal=goal, group=group, limit=limit, q=text)

    def as_params(self) -> dict:
        params = {"metric": self.metric, "goal": self.goal, "group": self.group, "q": self.q}
        if self.limit != DEFAULT_LIMIT:
            params["limit"] = self.limit
        return {name: value for name, value in params.items() if value}


def _key(field: str, what: str):
    if len(field) > MAX_TEXT:
        raise LeaderboardError(f"The {what} is longer than {MAX_TEXT} characters.")
    try:
        return json_key(field)
    except query.QueryError as error:
        raise LeaderboardError(str(error)) from None


@dataclass
class Row:
    run: Run
    value: float
    group: object = None
    runs_in_group: int | None = None


def numeric_value(metric: str):
    """The metric's value where it is a number, else NULL: text or objects never win."""
    column, path = json_key(metric)
    return Case(
        When(json_key_is(column, path, "number"), then=JSONKeyValue(column, path)),
        default=Value(None),
        output_field=_Decoded(),
    )


def _group(group: str):
    if group == "author":
        return F("author__username")
    if group in GROUP_FIELDS:
        return F(GROUP_FIELDS[group])
    return _DecodedKeyValue(*json_key(group))


def _order(metric, descending: bool) -> list:
    return [
        metric.desc(nulls_last=True) if descending else metric.asc(nulls_last=True),
        F("pk").asc(),
    ]


def ranked_runs(runs, metric: str, goal: str):
    """`runs` that hold a number for `metric` (a summary or config key), best first (`goal`
    max or min; ties by primary key), each with `metric_value`: one query when read."""
    expression = numeric_value(metric)
    return (
        runs.annotate(metric_value=expression)
        .exclude(metric_value=None)
        .order_by(*_order(expression, goal == "max"))
    )


def leaderboard(project, board: Board) -> list[Row]:
    """The rows, best first: one per group (its best run, the group's number of runs) or,
    without a group, the top runs. Runs without the metric come last."""
    runs = RunFilter(q=board.q).apply(Run.objects.filter(project=project))
    metric = numeric_value(board.metric)
    descending = board.goal == "max"
    order = _order(metric, descending)
    runs = runs.select_related("author", "project__entity").annotate(metric_value=metric)
    if not board.group:
        ranked = runs.exclude(metric_value=None).order_by(*order)[: board.limit]
        return [Row(run=run, value=run.metric_value) for run in ranked]
    group = _group(board.group)
    runs = runs.annotate(
        group_value=group,
        rank=Window(RowNumber(), partition_by=[group], order_by=order),
        runs_in_group=Window(Count("pk"), partition_by=[group]),
    )
    # The ordering refers to the annotation, so the outer query (rows whose rank is 1) sorts
    # the groups by the value of their best run.
    outer = [
        F("metric_value").desc(nulls_last=True)
        if descending
        else F("metric_value").asc(nulls_last=True),
        F("pk").asc(),
    ]
    best = runs.filter(rank=1).order_by(*outer)[:MAX_GROUPS]
    return [
        Row(
            run=run,
            value=run.metric_value,
            group=run.group_value,
            runs_in_group=run.runs_in_group,
        )
        for run in best
    ]
