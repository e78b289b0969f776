"""Charts logged with the client's presets (`wandb.plot.line`, `bar`, `confusion_matrix`, ...),
drawn as plotly figures.

`run.log({"acc": wandb.plot.bar(table, "class", "accuracy", title="...")})` logs the table as a
`table-file` under `acc_table` (history and summary) and puts the chart in the run config, under
`_wandb.visualize.acc`: `panel_config.panelDefId` names the chart type (`wandb/bar/v0`),
`fieldSettings` says which columns it draws, `stringSettings` holds the title (and axis titles),
and `userQuery` names the summary key of the table. Chart types this module does not know (a
team's own Vega spec) show their table instead, with a note."""

import json
import math
from dataclasses import dataclass

from runs.models import Run, RunFile

from .tables import LoggedTable, TableError, load_table

LINE = "wandb/line/v0"
LINE_SERIES = "wandb/lineseries/v0"
SCATTER = "wandb/scatter/v0"
BAR = "wandb/bar/v0"
HISTOGRAM = "wandb/histogram/v0"
CONFUSION_MATRIX = "wandb/confusion_matrix/v1"
CURVE = "wandb/area-under-curve/v0"  # pr_curve and roc_curve
CHART_TYPE_LABELS = {
    LINE: "Line",
    LINE_SERIES: "Line series",
    SCATTER: "Scatter",
    BAR: "Bar",
    HISTOGRAM: "Histogram",
    CONFUSION_MATRIX: "Confusion matrix",
    CURVE: "Curve per class",
}
# A chart type that is not drawn shows this many rows of its table.
TABLE_ROWS_SHOWN = 100
# Below this many points a line gets markers too, or a short one would hardly show.
FEW_POINTS = 30


class ChartError(Exception):
    """Why a chart cannot be drawn from its table (for the person looking at it)."""


@dataclass
class ChartSpec:
    """One chart of the run config's `_wandb.visualize`."""

    key: str
    chart_type: str
    fields: dict[str, str]
    strings: dict[str, str]
    table_key: str

    @property
    def title(self) -> str:
        return self.strings.get("title") or self.key

    @property
    def drawn(self) -> bool:
        return self.chart_type in FIGURE_BUILDERS

    @property
    def type_label(self) -> str:
        return CHART_TYPE_LABELS.get(self.chart_type, "Custom chart")


def _strings(value) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def _dicts(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _table_key(key: str, panel_config: dict) -> str:
    """The summary key the chart reads its table from: the `tableKey` argument of the query's
    `summaryTable` field (`<key>_table`, or `Custom Chart Tables/<key>_table` when split)."""
    query = panel_config.get("userQuery")
    query_fields = _dicts(query.get("queryFields")) if isinstance(query, dict) else []
    for query_field in query_fields:
        for field in _dicts(query_field.get("fields")):
            if field.get("name") != "summaryTable":
                continue
            for arg in _dicts(field.get("args")):
                if arg.get("name") == "tableKey" and isinstance(arg.get("value"), str):
                    return arg["value"]
    return f"{key}_table"


def _spec(key: str, value) -> ChartSpec | None:
    panel_config = value.get("panel_config") if isinstance(value, dict) else None
    if not isinstance(panel_config, dict):
        return None
    chart_type = panel_config.get("panelDefId")
    return ChartSpec(
        key=key,
        chart_type=chart_type if isinstance(chart_type, str) else "",
        fields=_strings(panel_config.get("fieldSettings")),
        strings=_strings(panel_config.get("stringSettings")),
        table_key=_table_key(key, panel_config),
    )


def _visualize(run: Run) -> dict:
    internal = run.config.get("_wandb") if isinstance(run.config, dict) else None
    visualize = internal.get("visualize") if isinstance(internal, dict) else None
    return visualize if isinstance(visualize, dict) else {}


def chart_specs(run: Run) -> list[ChartSpec]:
    """The run's preset charts by key, read from its config: no query."""
    specs = (_spec(key, value) for key, value in sorted(_visualize(run).items()))
    return [spec for spec in specs if spec is not None]


def chart_spec(run: Run, key: str) -> ChartSpec | None:
    return _spec(key, _visualize(run).get(key))


def chart_table_file(run: Run, spec: ChartSpec) -> RunFile | None:
    """The uploaded file of the chart's table, as the summary names it: one query."""
    summary = run.summary if isinstance(run.summary, dict) else {}
    value = summary.get(spec.table_key)
    path = value.get("path") if isinstance(value, dict) else None
    if not isinstance(path, str):
        return None
    return RunFile.objects.filter(run=run, name=path).exclude(uploaded_at=None).first()


# From table cells to plotly values


def _cell(value):
    """A cell as a chart value: numbers (not NaN or infinite, which JSON cannot carry), text,
    booleans; anything else (an image in a cell) is left out."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str | int):
        return value
    return None


def _column(table: LoggedTable, name: str, role: str) -> int:
    try:
        return table.columns.index(name)
    except ValueError:
        raise ChartError(f"The table has no column {name!r} for the chart's {role}.") from None


def _field(spec: ChartSpec, table: LoggedTable, role: str, *, required=True) -> int | None:
    name = spec.fields.get(role)
    if not name:
        if required:
            raise ChartError(f"The chart names no column for its {role}.")
        return None
    return _column(table, name, role)


def _label(value) -> str:
    value = _cell(value)
    return "" if value is None else str(value)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _groups(table: LoggedTable, by: int | None) -> dict[str, list[list]]:
    """Rows by the text of one column, in order of first appearance (all rows if no column)."""
    groups: dict[str, list[list]] = {}
    for row in table.rows:
        name = "" if by is None else _label(row[by])
        groups.setdefault(name, []).append(row)
    return groups


def _line_traces(groups: dict[str, list[list]], x: int, y: int) -> list[dict]:
    traces = []
    for name, rows in groups.items():
        points = [(_cell(row[x]), _cell(row[y])) for row in rows]
        # Lines are drawn along x: rows logged out of order would zigzag otherwise.
        if all(_is_number(px) for px, _ in points):
            points.sort(key=lambda point: point[0])
        trace = {
            "type": "scatter",
            "mode": "lines+markers" if len(points) < FEW_POINTS else "lines",
            "x": [px for px, _ in points],
            "y": [py for _, py in points],
            "name": name,
        }
        traces.append(trace)
    return traces


def _layout(x_title: str, y_title: str, *, legend: bool = False, **extra) -> dict:
    return {
        "margin": {"l": 48, "r": 12, "t": 28 if legend else 8, "b": 40},
        "height": 300,
        "xaxis": {"title": {"text": x_title}, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "automargin": True},
        "showlegend": legend,
        # Above the plot, where it cannot cover the x axis title.
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        "hovermode": "closest",
        **extra,
    }


def _line(spec: ChartSpec, table: LoggedTable) -> dict:
    x, y = _field(spec, table, "x"), _field(spec, table, "y")
    stroke = _field(spec, table, "stroke", required=False)
    traces = _line_traces(_groups(table, stroke), x, y)
    layout = _layout(table.columns[x], table.columns[y], legend=len(traces) > 1)
    return {"data": traces, "layout": layout}


def _line_series(spec: ChartSpec, table: LoggedTable) -> dict:
    step, line_key = _field(spec, table, "step"), _field(spec, table, "lineKey")
    value = _field(spec, table, "lineVal")
    traces = _line_traces(_groups(table, line_key), step, value)
    x_title = spec.strings.get("xname") or table.columns[step]
    return {"data": traces, "layout": _layout(x_title, "", legend=len(traces) > 1)}


def _scatter(spec: ChartSpec, table: LoggedTable) -> dict:
    x, y = _field(spec, table, "x"), _field(spec, table, "y")
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": [_cell(row[x]) for row in table.rows],
        "y": [_cell(row[y]) for row in table.rows],
    }
    return {"data": [trace], "layout": _layout(table.columns[x], table.columns[y])}


def _bar(spec: ChartSpec, table: LoggedTable) -> dict:
    label, value = _field(spec, table, "label"), _field(spec, table, "value")
    # Horizontal bars, the first row at the top, so long labels stay readable.
    trace = {
        "type": "bar",
        "orientation": "h",
        "y": [_label(row[label]) for row in table.rows],
        "x": [_cell(row[value]) for row in table.rows],
    }
    layout = _layout(table.columns[value], "")
    layout["yaxis"].update(type="category", autorange="reversed")
    return {"data": [trace], "layout": layout}


def _histogram(spec: ChartSpec, table: LoggedTable) -> dict:
    value = _field(spec, table, "value")
    trace = {"type": "histogram", "x": [_cell(row[value]) for row in table.rows]}
    return {"data": [trace], "layout": _layout(table.columns[value], "Count")}


def _count(value) -> float | int:
    value = _cell(value)
    if not _is_number(value):
        return 0
    return int(value) if float(value).is_integer() else value


def _confusion_matrix(spec: ChartSpec, table: LoggedTable) -> dict:
    actual, predicted = _field(spec, table, "Actual"), _field(spec, table, "Predicted")
    count = _field(spec, table, "nPredictions")
    classes: dict[str, int] = {}  # class name -> position, in order of first appearance
    cells = []
    for row in table.rows:
        pair = (_label(row[actual]), _label(row[predicted]))
        for name in pair:
            classes.setdefault(name, len(classes))
        cells.append((*pair, _count(row[count])))
    z = [[0] * len(classes) for _ in classes]
    for actual_name, predicted_name, number in cells:
        z[classes[actual_name]][classes[predicted_name]] += number
    names = list(classes)
    trace = {
        "type": "heatmap",
        "x": names,
        "y": names,
        "z": z,
        # More predictions, darker blue (plotly's own "Blues" runs the other way).
        "colorscale": [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]],
        "texttemplate": "%{z}",
        "hovertemplate": "Actual %{y}<br>Predicted %{x}<br>%{z}<extra></extra>",
    }
    layout = _layout("Predicted", "Actual")
    layout["xaxis"].update(type="category", side="bottom")
    layout["yaxis"].update(type="category", autorange="reversed")
    return {"data": [trace], "layout": layout}


def _curve(spec: ChartSpec, table: LoggedTable) -> dict:
    x, y = _field(spec, table, "x"), _field(spec, table, "y")
    by_class = _field(spec, table, "class", required=False)
    traces = _line_traces(_groups(table, by_class), x, y)
    x_title = spec.strings.get("x-axis-title") or table.columns[x]
    y_title = spec.strings.get("y-axis-title") or table.columns[y]
    return {"data": traces, "layout": _layout(x_title, y_title, legend=len(traces) > 1)}


FIGURE_BUILDERS = {
    LINE: _line,
    LINE_SERIES: _line_series,
    SCATTER: _scatter,
    BAR: _bar,
    HISTOGRAM: _histogram,
    CONFUSION_MATRIX: _confusion_matrix,
    CURVE: _curve,
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str | float):
        return str(value)
    return json.dumps(value, default=str)


def table_figure(table: LoggedTable) -> dict:
    """The table itself as a plotly table, its first rows only."""
    rows = table.rows[:TABLE_ROWS_SHOWN]
    columns = [[_text(row[index]) for row in rows] for index in range(len(table.columns))]
    trace = {
        "type": "table",
        "header": {"values": table.columns, "align": "left"},
        "cells": {"values": columns, "align": "left"},
    }
    # As tall as its rows need, up to a chart's height (it scrolls beyond).
    height = min(300, 40 + 28 * len(rows))
    layout = {"margin": {"l": 4, "r": 4, "t": 4, "b": 4}, "height": height}
    return {"data": [trace], "layout": layout}


def chart_figure(spec: ChartSpec, table: LoggedTable) -> tuple[dict, str]:
    """A plotly figure ({"data": traces, "layout": ...}) of the chart, and a note for the person
    looking at it: a chart type not drawn here, or a table that does not fit the chart, shows
    the table."""
    shown = ""
    if len(table.rows) > TABLE_ROWS_SHOWN:
        shown = f" (its first {TABLE_ROWS_SHOWN} of {len(table.rows)} rows)"
    build = FIGURE_BUILDERS.get(spec.chart_type)
    if build is None:
        name = spec.chart_type or "without a name"
        note = f"The custom chart type {name} is not drawn here; its table is shown{shown}."
        return table_figure(table), note
    try:
        return build(spec, table), ""
    except ChartError as error:
        return table_figure(table), f"{error} Its table is shown{shown}."


def chart_data(run: Run, spec: ChartSpec) -> dict:
    """What the run page draws for one chart: {"title", "figure" (or None), "note"}."""
    data = {"key": spec.key, "title": spec.title, "figure": None, "note": ""}
    file = chart_table_file(run, spec)
    if file is None:
        data["note"] = "The chart's table has not been uploaded yet."
        return data
    try:
        table = load_table(file)
    except TableError as error:
        data["note"] = str(error)
        return data
    data["figure"], data["note"] = chart_figure(spec, table)
    return data
