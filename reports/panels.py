"""The live content of a report's blocks, read when the page is shown: Markdown to HTML, the
runs a panel names, a line chart's series and a runs table's rows.

Queries grow with the number of panels and metrics, never with the runs or points they show:
a panel's runs are one query, a line chart's metrics one more, and each metric two
(runs.charts.runs_series reads every run's series at once: a long one as about
CHART_BUCKETS spans' lowest and highest values, from the tiles kept as points arrive)."""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.html import escape

from runs import charts
from runs.compare import display
from runs.models import MetricKey, Run
from runs.query import QueryError, order_by, parse_text, to_q
from runs.selectors import json_column_value

from .blocks import CHART_RUNS, Kind
from .markdown import render_markdown

CHART_BUCKETS = 200  # a report chart is about 900 pixels wide: 400 points per line at most
CHART_HEIGHT = 340


@dataclass
class RenderedBlock:
    key: str
    kind: str
    config: dict
    html: str = ""
    figure: dict | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def figure_id(self) -> str:
        return f"report-figure-{self.key}"

    @property
    def title(self) -> str:
        if self.kind == Kind.LINE_CHART:
            return self.config.get("title") or ", ".join(self.config.get("metrics", []))
        if self.kind == Kind.RUNS_TABLE:
            return "Runs"
        return ""

    @property
    def run_set_text(self) -> str:
        return describe_run_set(self.config.get("runs") or {})


def describe_run_set(run_set: dict) -> str:
    if "ids" in run_set:
        return "runs " + ", ".join(run_set["ids"])
    query = run_set.get("query", "")
    return f"runs where {query}" if query else "every run"


def _run_set(project, run_set: dict, *, limit: int, sort: str = "") -> tuple[list, bool]:
    """The runs a panel names, newest first unless sorted, at most `limit`; and whether more
    matched. QueryError if its query cannot be answered."""
    runs = Run.objects.filter(project=project)
    if "ids" in run_set:
        runs = runs.filter(run_id__in=run_set["ids"])
    else:
        runs = runs.filter(to_q(parse_text(run_set.get("query", "")), project=project.pk))
    if sort:
        runs = runs.order_by(*order_by(sort.removeprefix("-"), descending=sort.startswith("-")))
    else:
        runs = runs.order_by("-created_at", "-pk")
    found = list(runs[: limit + 1])
    return found[:limit], len(found) > limit


def _run_url(project, run) -> str:
    return reverse("runs:detail", args=[project.entity.name, project.name, run.run_id])


def _line_chart(project, block: RenderedBlock) -> None:
    runs, capped = _run_set(project, block.config["runs"], limit=CHART_RUNS)
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
            "xaxis": {"title": {"text": "Step"}},
            "showlegend": True,
            "legend": {"orientation": "h", "y": -0.2},
        },
    }


def _cell(value) -> str | None:
    return None if value is None else display(value)


def _runs_table(project, block: RenderedBlock) -> None:
    config = block.config
    runs, capped = _run_set(
        project, config["runs"], limit=config["limit"], sort=config.get("sort", "")
    )
    if capped:
        block.notes.append(f"More runs match: the table shows the first {config['limit']}.")
    block.columns = config["columns"]
    block.rows = [
        {
            "run": run,
            "url": _run_url(project, run),
            "values": [_cell(json_column_value(run, column)) for column in block.columns],
        }
        for run in runs
    ]


def render_blocks(project, blocks: list[dict]) -> list[RenderedBlock]:
    """Each block ({"key", "kind", "config"}, a draft's or a version's) with what it shows."""
    rendered = []
    for item in blocks:
        block = RenderedBlock(key=item["key"], kind=item["kind"], config=item["config"])
        try:
            if block.kind == Kind.TEXT:
                block.html = render_markdown(block.config.get("markdown", ""))
            elif block.kind == Kind.LINE_CHART:
                _line_chart(project, block)
            elif block.kind == Kind.RUNS_TABLE:
                _runs_table(project, block)
        except QueryError as error:
            block.error = f"The runs of this panel cannot be read: {error}."
        rendered.append(block)
    return rendered
