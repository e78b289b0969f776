"""The Plotly figures of the workspace panels (runs.panels), built from the rows panel_rows
read: plain data and layout the page hands to static/js/panels.js as JSON."""

import math
from dataclasses import dataclass, field

from .panels import Panel

MAX_TRACES = 20  # colours of a text colour key, each its own trace
MAX_BARS = 50  # groups of a bar panel, keys of a correlation panel
MIN_CORRELATION_RUNS = 3
NONE_LABEL = "(none)"
HEIGHT = 320


@dataclass
class Figure:
    data: list = field(default_factory=list)
    layout: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    runs: int = 0  # runs drawn

    @property
    def spec(self) -> dict:
        return {"data": self.data, "layout": self.layout}


def is_number(value) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def label(value) -> str:
    """A value as a category: 0.001, 32 (not 32.0), true, text; missing as (none)."""
    if value is None or value == "":
        return NONE_LABEL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _category_order(labels):
    """Numbers in numeric order, then text, (none) last."""

    def rank(text):
        try:
            return (0, float(text), "")
        except ValueError:
            return (1 if text != NONE_LABEL else 2, 0.0, text)

    return sorted(set(labels), key=rank)


def _layout(**extra) -> dict:
    return {
        "height": HEIGHT,
        # Room above the plot for Plotly's mode bar, which would otherwise cover points.
        "margin": {"l": 56, "r": 16, "t": 28, "b": 48},
        "showlegend": False,
        **extra,
    }


def _skipped(figure: Figure, skipped: int, why: str) -> None:
    if skipped:
        figure.notes.append(f"{skipped} run{'s' if skipped != 1 else ''} without {why} left out.")


def build(panel: Panel, rows: list[dict], run_url) -> Figure:
    return {
        "scatter": scatter,
        "parallel": parallel,
        "bar": bar,
        "correlation": correlation,
    }[panel.kind](panel, rows, run_url)


def scatter(panel: Panel, rows: list[dict], run_url) -> Figure:
    points = [row for row in rows if is_number(row[panel.x]) and is_number(row[panel.y])]
    figure = Figure(runs=len(points))
    _skipped(figure, len(rows) - len(points), f"numbers for both {panel.x} and {panel.y}")
    if not points:
        return figure

    def trace(chosen, **extra):
        return {
            "type": "scatter",
            "mode": "markers",
            "x": [row[panel.x] for row in chosen],
            "y": [row[panel.y] for row in chosen],
            "text": [_html(row["name"] or row["run_id"]) for row in chosen],
            "customdata": [run_url(row["run_id"]) for row in chosen],
            "hovertemplate": (
                f"%{{text}}<br>{_escape(panel.x)}: %{{x}}<br>{_escape(panel.y)}: %{{y}}"
                + (f"<br>{_escape(panel.color)}: %{{marker.color}}" if extra.get("numeric") else "")
                + "<extra>%{fullData.name}</extra>"
            ),
            **{key: value for key, value in extra.items() if key != "numeric"},
        }

    layout = _layout(
        xaxis={"title": {"text": panel.x}, "automargin": True},
        yaxis={"title": {"text": panel.y}, "automargin": True},
        hovermode="closest",
    )
    colours = [row[panel.color] for row in points] if panel.color else []
    present = [value for value in colours if value is not None]
    if not panel.color or not present:
        figure.data = [trace(points, name="runs", marker={"size": 8})]
    elif all(is_number(value) for value in present):
        coloured = [row for row in points if row[panel.color] is not None]
        marker = {
            "size": 8,
            "color": [row[panel.color] for row in coloured],
            "colorscale": "Viridis",
            "showscale": True,
            "colorbar": {"title": {"text": panel.color}},
        }
        figure.data = [trace(coloured, name=panel.color, marker=marker, numeric=True)]
        missing = [row for row in points if row[panel.color] is None]
        if missing:
            figure.data.append(
                trace(missing, name=f"no {panel.color}", marker={"size": 8, "color": "#999"})
            )
            layout["showlegend"] = True
    else:
        by_label = {}
        for row in points:
            by_label.setdefault(label(row[panel.color]), []).append(row)
        order = _category_order(by_label)
        if len(order) > MAX_TRACES:
            kept = order[: MAX_TRACES - 1]
            figure.notes.append(f"{len(order) - len(kept)} values of {panel.color} shown as other.")
            other = [row for text in order[MAX_TRACES - 1 :] for row in by_label[text]]
            by_label = {text: by_label[text] for text in kept} | {"other": other}
            order = [*kept, "other"]
        figure.data = [trace(by_label[text], name=text, marker={"size": 8}) for text in order]
        layout["showlegend"] = True
        layout["legend"] = {"title": {"text": panel.color}}
    figure.layout = layout
    return figure


def parallel(panel: Panel, rows: list[dict], run_url) -> Figure:
    with_metric = [row for row in rows if is_number(row[panel.metric])]
    figure = Figure()
    _skipped(figure, len(rows) - len(with_metric), f"a number for {panel.metric}")
    numeric_axes = {
        axis
        for axis in panel.axes
        if any(row[axis] is not None for row in with_metric)
        and all(is_number(row[axis]) for row in with_metric if row[axis] is not None)
    }
    # A numeric axis has no place for a missing value; a text axis shows it as (none).
    drawn = [row for row in with_metric if all(row[axis] is not None for axis in numeric_axes)]
    _skipped(figure, len(with_metric) - len(drawn), "a value on every numeric axis")
    figure.runs = len(drawn)
    if not drawn:
        return figure
    axes = [*panel.axes, panel.metric]
    numeric_axes.add(panel.metric)
    scales = [_axis_scale([row[axis] for row in drawn], axis in numeric_axes) for axis in axes]
    metric = [row[panel.metric] for row in drawn]
    lowest, highest = min(metric), max(metric)
    bins = {}
    for row, value in zip(drawn, metric, strict=True):
        share = (value - lowest) / (highest - lowest) if highest > lowest else 0.5
        bins.setdefault(min(int(share * len(VIRIDIS)), len(VIRIDIS) - 1), []).append(row)
    for colour_bin, chosen in sorted(bins.items()):
        x, y, text, links = [], [], [], []
        for row in chosen:
            name, url = _html(row["name"] or row["run_id"]), run_url(row["run_id"])
            for position, (axis, (place, _)) in enumerate(zip(axes, scales, strict=True)):
                x.append(position)
                y.append(place(row[axis]))
                text.append(f"{name}<br>{_html(axis)}: {_html(label(row[axis]))}")
                links.append(url)
            x.append(None)
            y.append(None)
            text.append(None)
            links.append(None)
        figure.data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": x,
                "y": y,
                "text": text,
                "customdata": links,
                "hovertemplate": "%{text}<extra></extra>",
                "line": {"color": VIRIDIS[colour_bin], "width": 1.5},
                "marker": {"color": VIRIDIS[colour_bin], "size": 4},
                "opacity": 0.75,
                "connectgaps": False,
            }
        )
    # The colour scale of the metric, on a trace with no points of its own.
    figure.data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": [None, None],
            "y": [None, None],
            "hoverinfo": "skip",
            "marker": {
                "color": [lowest, highest],
                "cmin": lowest,
                "cmax": highest,
                "colorscale": [[i / (len(VIRIDIS) - 1), c] for i, c in enumerate(VIRIDIS)],
                "showscale": True,
                "colorbar": {"title": {"text": panel.metric}, "thickness": 12},
            },
        }
    )
    annotations = [
        {
            "x": position,
            "y": place,
            "text": _html(text),
            "showarrow": False,
            "xanchor": "left",
            "xshift": 4,
            "font": {"size": 10},
        }
        for position, (_, ticks) in enumerate(scales)
        for place, text in ticks
    ]
    figure.layout = _layout(
        xaxis={
            "tickvals": list(range(len(axes))),
            "ticktext": axes,
            "range": [-0.15, len(axes) - 0.4],
            "showgrid": False,
            "zeroline": False,
            "automargin": True,
        },
        yaxis={"visible": False, "range": [-0.06, 1.06]},
        shapes=[
            {"type": "line", "x0": i, "x1": i, "y0": 0, "y1": 1, "line": {"color": "#888"}}
            for i in range(len(axes))
        ],
        annotations=annotations,
        hovermode="closest",
    )
    return figure


# Parallel coordinates are drawn as lines (SVG): Plotly's own parcoords trace needs WebGL and
# compiles shaders with eval, which the pages' Content Security Policy rightly refuses.
VIRIDIS = ["#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39", "#fde725"]
MAX_CATEGORY_TICKS = 15


def _axis_scale(values: list, numeric: bool):
    """(value -> height in [0, 1], [(height, tick text)]) of one parallel axis: numbers from
    lowest to highest, text values (and missing ones, as (none)) evenly in their order."""
    if numeric:
        lowest, highest = min(values), max(values)
        if highest == lowest:
            return (lambda value: 0.5), [(0.5, f"{lowest:.4g}")]
        span = highest - lowest

        def place(value):
            return (value - lowest) / span

        middle = (lowest + highest) / 2
        ticks = [(0.0, f"{lowest:.4g}"), (0.5, f"{middle:.4g}"), (1.0, f"{highest:.4g}")]
        return place, ticks
    order = _category_order(label(value) for value in values)
    heights = {
        text: (i / (len(order) - 1) if len(order) > 1 else 0.5) for i, text in enumerate(order)
    }
    step = max(1, math.ceil(len(order) / MAX_CATEGORY_TICKS))
    ticks = [(heights[text], text) for text in order[::step]]
    return (lambda value: heights[label(value)]), ticks


def group_stats(panel: Panel, rows: list[dict]) -> list[tuple[str, float, float, int]]:
    """(group, mean, standard error of the mean, runs) for each group that has the metric."""
    values = {}
    for row in rows:
        if is_number(row[panel.metric]):
            values.setdefault(label(row[panel.group]), []).append(row[panel.metric])
    stats = []
    for text in _category_order(values):
        numbers = values[text]
        count = len(numbers)
        mean = math.fsum(numbers) / count
        if count > 1:
            variance = math.fsum((value - mean) ** 2 for value in numbers) / (count - 1)
            error = math.sqrt(variance / count)
        else:
            error = 0.0
        stats.append((text, mean, error, count))
    return stats


def bar(panel: Panel, rows: list[dict], run_url) -> Figure:
    stats = group_stats(panel, rows)
    figure = Figure(runs=sum(count for *_, count in stats))
    _skipped(figure, len(rows) - figure.runs, f"a number for {panel.metric}")
    if len(stats) > MAX_BARS:
        figure.notes.append(f"The {MAX_BARS} largest of {len(stats)} groups are shown.")
        largest = sorted(stats, key=lambda stat: -stat[3])[:MAX_BARS]
        stats = [stat for stat in stats if stat in largest]
    if not stats:
        return figure
    figure.data = [
        {
            "type": "bar",
            "x": [text for text, *_ in stats],
            "y": [mean for _, mean, _, _ in stats],
            "error_y": {"type": "data", "array": [error for _, _, error, _ in stats]},
            "customdata": [[count, error] for *_, error, count in stats],
            "hovertemplate": (
                f"{_escape(panel.group)} %{{x}}<br>mean {_escape(panel.metric)}: %{{y}}"
                "<br>standard error: %{customdata[1]:.3g}<br>runs: %{customdata[0]}<extra></extra>"
            ),
            "marker": {"color": "#4c78a8"},
        }
    ]
    figure.layout = _layout(
        xaxis={"title": {"text": panel.group}, "type": "category", "automargin": True},
        yaxis={"title": {"text": f"mean {panel.metric}"}, "automargin": True},
    )
    figure.notes.append("Error bars: standard error of the mean.")
    return figure


def flatten(data: dict, prefix: str = ""):
    """(dotted name, value) of each leaf of a config, as the table names its columns; the
    client's own keys (starting with _) left out."""
    for key, value in data.items():
        if not prefix and str(key).startswith("_"):
            continue
        if isinstance(value, dict) and value and "_type" not in value:
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def pearson(pairs: list[tuple[float, float]]) -> float | None:
    """The Pearson correlation of the pairs, or None when either side is constant."""
    count = len(pairs)
    mean_x = math.fsum(x for x, _ in pairs) / count
    mean_y = math.fsum(y for _, y in pairs) / count
    covariance = math.fsum((x - mean_x) * (y - mean_y) for x, y in pairs)
    spread_x = math.fsum((x - mean_x) ** 2 for x, _ in pairs)
    spread_y = math.fsum((y - mean_y) ** 2 for _, y in pairs)
    if spread_x <= 0 or spread_y <= 0:
        return None
    return max(-1.0, min(1.0, covariance / math.sqrt(spread_x * spread_y)))


def correlations(panel: Panel, rows: list[dict]):
    """([(config key, r, runs used)] sorted by |r|, non-numeric keys, keys with too few runs
    or a constant value)."""
    pairs, non_numeric = {}, set()
    metric_key = (
        panel.metric.removeprefix("config.") if panel.metric.startswith("config.") else None
    )
    for row in rows:
        config = row.get("config")
        metric = row[panel.metric]
        if not isinstance(config, dict):
            continue
        for name, value in flatten(config):
            if name == metric_key:
                continue
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                non_numeric.add(name)
                continue
            if is_number(metric) and math.isfinite(value):
                pairs.setdefault(name, []).append((float(value), metric))
            else:
                pairs.setdefault(name, [])
    results, unusable = [], []
    for name, used in pairs.items():
        if name in non_numeric:
            continue
        r = pearson(used) if len(used) >= MIN_CORRELATION_RUNS else None
        if r is None:
            unusable.append(name)
        else:
            results.append((name, r, len(used)))
    results.sort(key=lambda item: (-abs(item[1]), item[0]))
    return results, sorted(non_numeric), sorted(unusable)


def correlation(panel: Panel, rows: list[dict], run_url) -> Figure:
    results, non_numeric, unusable = correlations(panel, rows)
    figure = Figure(runs=sum(1 for row in rows if is_number(row[panel.metric])))
    _skipped(figure, len(rows) - figure.runs, f"a number for {panel.metric}")
    if non_numeric:
        figure.notes.append(f"Not numeric, left out: {', '.join(non_numeric)}.")
    if unusable:
        figure.notes.append(
            f"Constant or in fewer than {MIN_CORRELATION_RUNS} runs: {', '.join(unusable)}."
        )
    if len(results) > MAX_BARS:
        figure.notes.append(f"The {MAX_BARS} strongest of {len(results)} keys are shown.")
        results = results[:MAX_BARS]
    if not results:
        return figure
    figure.data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [f"config.{name}" for name, _, _ in results],
            "x": [r for _, r, _ in results],
            "customdata": [count for *_, count in results],
            "text": [f"{r:.2f} · {count} runs" for _, r, count in results],
            "textposition": "auto",
            "marker": {"color": ["#4c78a8" if r >= 0 else "#e45756" for _, r, _ in results]},
            "hovertemplate": "%{y}<br>r = %{x:.3f}<br>runs: %{customdata}<extra></extra>",
        }
    ]
    figure.layout = _layout(
        height=max(HEIGHT, 80 + 22 * len(results)),
        xaxis={"title": {"text": f"Pearson r with {panel.metric}"}, "range": [-1, 1]},
        yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
    )
    return figure


def _html(text: str) -> str:
    """Text for Plotly's labels, which read a little HTML: a run named <b> stays as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape(text: str) -> str:
    """Text inside a hover template, where %{…} would also be read as a placeholder."""
    return _html(text).replace("%{", "%\u200b{")
