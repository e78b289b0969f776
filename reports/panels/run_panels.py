"""The panels that read runs: a line chart's series, a runs table's rows, a leaderboard's
ranks, and a scatter or parallel coordinates figure of summary and config values.

Queries grow with the number of panels and metrics, never with the runs or points they show:
a panel's runs are one query, a line chart's metrics one more, and each metric two
(runs.charts.runs_series reads every run's series at once: a long one as about
CHART_BUCKETS spans' lowest and highest values, from the tiles kept as points arrive); a
leaderboard two (its ranks, its count), a scatter or parallel panel one (runs.panels'
panel_rows, as the workspace's panels read)."""

from django.db.models import Count
from django.utils.html import escape

from runs import charts, panel_figures
from runs.compare import display
from runs.leaderboard import numeric_value, ranked_runs
from runs.models import MetricKey, Run
from runs.panels import RUN_CAP, Panel, panel_rows
from runs.selectors import json_column_value

from ..blocks import CHART_RUNS, FROZEN_RUNS, Kind
from .base import RenderedBlock, RunSetFilter, run_set_q, run_set_runs, run_url

CHART_BUCKETS = 200  # a report chart is about 900 pixels wide: 400 points per line at most
CHART_HEIGHT = 340


def line_chart(project, block: RenderedBlock) -> None:
    runs, capped = run_set_runs(project, block.config["runs"], limit=CHART_RUNS)
    if capped:
        block.notes.append(f"More than {CHART_RUNS} runs match: the chart shows the newest.")
    metrics = block.config["metrics"]
    data = []
    if runs:
        key_ids = charts.key_ids(MetricKey.Stream.HISTORY, metrics)
        for metric in metrics:
            if metric not in key_ids:
                continue
            series = charts.runs_series(
                [run.pk for run in runs], key_ids[metric], buckets=CHART_BUCKETS
            )
            for run in runs:
                if run.pk not in series:
                    continue
                steps, values = series[run.pk]
                # Plotly reads a little HTML in trace names: a run named <b> stays as written.
                name = escape(run.display_name)
                data.append(
                    {
                        "type": "scatter",
                        "mode": "lines" if len(steps) >= 30 else "lines+markers",
                        "name": f"{name} · {escape(metric)}" if len(metrics) > 1 else name,
                        "x": steps,
                        # NaN (never equal to itself) is no JSON: a gap.
                        "y": [v if v == v else None for v in values],
                        "line": {"width": 1.5},
                    }
                )
    if not data:
        block.notes.append("No run in the set logged these metrics.")
        return
    block.notes.append(f"{len(runs)} run{'s' if len(runs) != 1 else ''}.")
    block.figure = {
        "data": data,
        "layout": {
            "height": CHART_HEIGHT,
            "margin": {"l": 56, "r": 16, "t": 28, "b": 48},
            "xaxis": {"title": {"text": "Step", "standoff": 4}},
            "showlegend": True,
            # Below the axis title, however many rows the names take (plotly grows the margin).
            "legend": {"orientation": "h", "x": 0, "y": -0.16, "yanchor": "top"},
        },
    }


def _cell(value) -> str | None:
    return None if value is None else display(value)


def runs_table(project, block: RenderedBlock) -> None:
    config = block.config
    runs, capped = run_set_runs(
        project, config["runs"], limit=config["limit"], sort=config.get("sort", "")
    )
    if capped:
        block.notes.append(f"More runs match: the table shows the first {config['limit']}.")
    block.columns = config["columns"]
    block.rows = [
        {
            "run": run,
            "url": run_url(project, run.run_id),
            "values": [_cell(json_column_value(run, column)) for column in block.columns],
        }
        for run in runs
    ]


def _plural(count: int, word: str = "run") -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def leaderboard(project, block: RenderedBlock) -> None:
    config = block.config
    runs = Run.objects.filter(project=project).filter(run_set_q(project, config["runs"]))
    ranked = list(ranked_runs(runs, config["metric"], config["best"])[: config["limit"]])
    counts = runs.aggregate(total=Count("pk"), ranked=Count(numeric_value(config["metric"])))
    block.columns = config["columns"]
    block.rows = [
        {
            "rank": rank,
            "run": run,
            "url": run_url(project, run.run_id),
            "value": display(run.metric_value),
            "values": [_cell(json_column_value(run, column)) for column in block.columns],
        }
        for rank, run in enumerate(ranked, start=1)
    ]
    missing = counts["total"] - counts["ranked"]
    if missing:
        block.notes.append(
            f"{_plural(missing)} of the set without a number for {config['metric']} left out."
        )
    if counts["ranked"] > len(ranked):
        block.notes.append(f"The best {len(ranked)} of {_plural(counts['ranked'])} shown.")


def _rows(project, block: RenderedBlock, fields: list[str]) -> list[dict]:
    read = panel_rows(
        project, RunSetFilter(project, block.config["runs"]), fields, with_config=False
    )
    if read.capped:
        block.notes.append(f"More than {read.cap} runs match: the newest {read.cap} are shown.")
    return read.rows


def _run_link(project):
    return lambda run_id: run_url(project, run_id)


def scatter(project, block: RenderedBlock) -> None:
    config = block.config
    panel = Panel("scatter", x=config["x"], y=config["y"], color=config.get("color", ""))
    rows = _rows(project, block, panel.keys)
    figure = panel_figures.scatter(panel, rows, _run_link(project))
    block.notes.extend(figure.notes)
    if figure.data:
        block.figure = figure.spec
        block.notes.append(f"{_plural(figure.runs)}.")


MAX_NAMED = 10  # runs a note names by name before counting the rest


def _named(rows: list[dict]) -> str:
    names = [row["name"] or row["run_id"] for row in rows[:MAX_NAMED]]
    more = f" and {len(rows) - MAX_NAMED} more" if len(rows) > MAX_NAMED else ""
    return ", ".join(names) + more


def parallel_coordinates(project, block: RenderedBlock) -> None:
    """Numeric columns only: a column holding text (or nothing) is left out, then a run
    without a number on a column that is kept, each said in a note."""
    columns = block.config["columns"]
    rows = _rows(project, block, columns)
    numeric = [
        column
        for column in columns
        if any(row[column] is not None for row in rows)
        and all(panel_figures.is_number(row[column]) for row in rows if row[column] is not None)
    ]
    if left_out := [column for column in columns if column not in numeric]:
        block.notes.append(f"Not numeric in these runs, left out: {', '.join(left_out)}.")
    drawn = [row for row in rows if all(panel_figures.is_number(row[c]) for c in numeric)]
    if skipped := [row for row in rows if row not in drawn]:
        block.notes.append(
            f"{_plural(len(skipped))} without a number on every column left out: {_named(skipped)}."
        )
    if len(numeric) < 2 or not drawn:
        block.notes.append("Fewer than two numeric columns to draw.")
        return
    # The last numeric column colours the lines (the workspace's parallel panel draws them).
    panel = Panel("parallel", axes=tuple(numeric[:-1]), metric=numeric[-1])
    figure = panel_figures.parallel(panel, drawn, _run_link(project))
    block.notes.extend(figure.notes)
    if figure.data:
        block.figure = figure.spec
        block.notes.append(f"{_plural(figure.runs)}; colour: {numeric[-1]}.")


def frozen_ids(project, kind: str, config: dict) -> list[str]:
    """The ids of the runs a panel's query matches now, as many as the panel shows: a line
    chart's newest CHART_RUNS, a table's first rows in its order, up to FROZEN_RUNS for the
    others (a leaderboard ranks them all; scatter and parallel panels read RUN_CAP)."""
    run_set = {"query": config["runs"].get("query", "")}
    if kind == Kind.LINE_CHART:
        limit, sort = CHART_RUNS, ""
    elif kind == Kind.RUNS_TABLE:
        limit, sort = config["limit"], config.get("sort", "")
    else:
        limit, sort = min(FROZEN_RUNS, RUN_CAP), ""
    runs, _ = run_set_runs(project, run_set, limit=limit, sort=sort)
    return [run.run_id for run in runs]
