"""Grouping on the project page: the grouped runs table (`?group=config.lr&group=tags`) and the
workspace charts' data per group (`metric/groups/`). Its own module so runs/views.py stays
under ~600 lines."""

from dataclasses import dataclass, field

from django.http import JsonResponse
from django.utils.http import urlencode

from projects.access import get_project_for_user

from . import charts, grouping, selectors
from .models import MetricKey, Run
from .selectors import RunFilter

MAX_TABLE_METRICS = 12  # as many as the table's added columns
CHART_GROUPS = 10
RUNS_PER_CHART_GROUP = 10  # as many as the ungrouped workspace charts
CHART_RUNS_WINDOW = 10_000  # the latest runs that the charted runs of a group are taken from
CHART_BUCKETS = 250


@dataclass
class GroupedTable:
    keys: list
    error: str | None = None
    metrics: list = field(default_factory=list)  # [{"key": "summary.loss", "label": "loss"}]
    rows: list = field(default_factory=list)  # [{"values_missing", "count", "link", "cells"}]
    more: bool = False  # more than MAX_GROUPS groups: the largest are shown
    remove_links: list = field(default_factory=list)  # [(key, query string without it)]
    ungrouped: str = ""  # the query string without grouping
    chart_params: str = ""  # what the workspace charts send to metric/groups/

    @property
    def has_tags(self):
        return any(key.field == "tags" for key in self.keys)

    @property
    def max_groups(self):
        return grouping.MAX_GROUPS


def grouped_table(request, project, run_filter: RunFilter) -> GroupedTable:
    """The runs table grouped by the request's `group` keys, within the filter: one query for
    the groups (and one for the default metrics when the table has no columns of its own)."""
    keys, error = grouping.parse_group_keys(request.GET, project)
    table = GroupedTable(keys=keys, error=error)
    if not keys:
        return table
    metrics = table_metrics(request.GET, project)
    table.metrics = [{"key": metric, "label": metric.partition(".")[2]} for metric in metrics]
    runs = run_filter.apply(Run.objects.filter(project=project))
    rows = grouping.group_rows(
        runs,
        keys,
        metrics,
        grouping.MAX_GROUPS + 1,
        project=project,
        filtered=run_filter.is_active,
    )
    table.more = len(rows) > grouping.MAX_GROUPS
    table.rows = [_table_row(request, keys, row, run_filter) for row in rows[: grouping.MAX_GROUPS]]
    table.remove_links = [
        (key, _grouped_by(request, [other for other in keys if other != key])) for key in keys
    ]
    table.ungrouped = _grouped_by(request, [])
    table.chart_params = urlencode(
        [*run_filter.as_params().items(), *(("group", key.field) for key in keys)]
    )
    return table


def table_metrics(params, project) -> list[str]:
    """The metrics a grouped table aggregates: its added columns (`col`), or else the summary
    keys most runs hold numbers for."""
    columns = []
    for column in params.getlist("col"):
        if selectors.json_column_key(column) and column not in columns:
            columns.append(column)
    return columns[:MAX_TABLE_METRICS] or grouping.default_metrics(project)


def _number(value):
    return "" if value is None else f"{value:.4g}"


def _table_row(request, keys, row: grouping.GroupRow, run_filter) -> dict:
    text = row.query_text(keys, run_filter.q)
    link = None
    if text is not None:
        params = request.GET.copy()
        for name in ("group", "cursor", "q"):
            params.pop(name, None)
        params["q"] = text
        link = params.urlencode()
    cells = []
    for stats in row.metrics:
        cells += [_number(stats.mean), _number(stats.std), _number(stats.min), _number(stats.max)]
    return {
        "values_missing": [(str(value), value.kind == "missing") for value in row.values],
        "count": row.count,
        "link": link,
        "cells": cells,
    }


def _grouped_by(request, keys) -> str:
    """The page's query string, grouped by `keys` instead."""
    params = request.GET.copy()
    params.pop("cursor", None)
    params.setlist("group", [key.field for key in keys])
    return params.urlencode()


# The workspace charts, grouped


class BadChartRequest(ValueError):
    pass


def _step_param(request, name):
    raw = request.GET.get(name, "")
    if raw == "":
        return None
    try:
        value = int(float(raw))
    except (ValueError, OverflowError):  # OverflowError: "inf"
        raise BadChartRequest(f"{name} must be a number.") from None
    if value < 0:
        raise BadChartRequest(f"{name} must be 0 or more.")
    return value


def project_metric_groups(request, entity, project):
    """One history metric of a project's runs grouped by `group` (within the filter `q`,
    `state`, `tag`, `author`): per group, the mean of its latest runs at each step with their
    lowest and highest value, for a workspace panel. JSON."""
    project = get_project_for_user(request, entity, project)
    key = request.GET.get("key", "")
    keys, error = grouping.parse_group_keys(request.GET, project)
    try:
        if not key:
            raise BadChartRequest("Name a metric with ?key=.")
        if not keys:
            raise BadChartRequest(error or "Name the keys to group by with ?group=.")
        lo, hi = _step_param(request, "min"), _step_param(request, "max")
    except BadChartRequest as problem:
        return JsonResponse({"error": str(problem)}, status=400)
    run_filter, _ = RunFilter.from_params(request.GET).checked()
    runs = run_filter.apply(Run.objects.filter(project=project))
    groups = grouping.group_rows(
        runs, keys, [], CHART_GROUPS, project=project, filtered=run_filter.is_active
    )
    members = grouping.group_members_sql(
        runs, keys, groups, RUNS_PER_CHART_GROUP, window=CHART_RUNS_WINDOW
    )
    key_id = charts.key_ids(MetricKey.Stream.HISTORY, [key]).get(key)
    series = {}
    if members is not None and key_id is not None:
        series = charts.group_series(members, key_id, lo=lo, hi=hi, buckets=CHART_BUCKETS)
    empty = {"charted": 0, "step": [], "mean": [], "min": [], "max": []}
    return JsonResponse(
        {
            "key": key,
            "groups": [
                {
                    "label": " · ".join(str(value) for value in group.values),
                    "count": group.count,
                    **series.get(index, empty),
                }
                for index, group in enumerate(groups)
            ],
            "note": (
                f"One line per group ({', '.join(key.label for key in keys)}), for the"
                f" {CHART_GROUPS} largest: the mean of up to {RUNS_PER_CHART_GROUP} of its runs"
                f" (the latest, of the latest {CHART_RUNS_WINDOW:,}), shaded from lowest to"
                " highest."
            ),
        }
    )
