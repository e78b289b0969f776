"""Logged histograms (`wandb.Histogram`): the value the client puts in a history row is
`{"_type": "histogram", "values": [counts], "bins": [edges]}` (one more edge than counts); the
W&B server's packed form `{"values": [...], "packedBins": {"min", "size", "count"}}` names evenly
spaced edges instead.

The run page draws one step as bars and all steps as a heat map (step x bin, colour = count).
Bins may differ from step to step, so the heat map spreads each step's counts onto one common
grid. A value that cannot be read is skipped with a reason, never an error."""

import math
from dataclasses import dataclass, field
from functools import reduce
from itertools import pairwise
from operator import or_

from django.db.models import Q

from runs.models import MetricKey, RichValue, Run

from .kinds import HISTOGRAM

MAX_BINS = 4096  # the client sends at most 512; more is not a histogram anyone logged
HEATMAP_MAX_STEPS = 500
HEATMAP_ROWS = 64
MAX_NOTES = 5


class HistogramError(ValueError):
    """Why a logged value cannot be drawn as a histogram."""


@dataclass
class Histogram:
    edges: list[float]  # ascending, one more than counts
    counts: list[float]

    def bars(self) -> dict:
        """Plotly bar data: one bar per bin, as wide as the bin."""
        return {
            "x": [(a + b) / 2 for a, b in pairwise(self.edges)],
            "width": [b - a for a, b in pairwise(self.edges)],
            "y": self.counts,
        }


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _packed_edges(packed: dict, count: int) -> list[float]:
    start, size, bins = packed.get("min"), packed.get("size"), packed.get("count")
    if not (_is_number(start) and _is_number(size) and size > 0):
        raise HistogramError("Its packed bins have no usable start and size.")
    if bins != count:
        raise HistogramError(f"It has {count} counts but its packed bins say {bins}.")
    return [start + index * size for index in range(count + 1)]


def parse_histogram(value) -> Histogram:
    """The histogram in a logged value; HistogramError says why there is none."""
    if not isinstance(value, dict) or value.get("_type") != "histogram":
        raise HistogramError("It is not a histogram.")
    counts = value.get("values")
    if not isinstance(counts, list) or not counts:
        raise HistogramError("It has no counts.")
    if len(counts) > MAX_BINS:
        raise HistogramError(f"It has {len(counts)} bins, more than the {MAX_BINS} drawn.")
    if not all(_is_number(count) for count in counts):
        raise HistogramError("Its counts are not all numbers.")
    packed = value.get("packedBins")
    if isinstance(packed, dict):
        edges = _packed_edges(packed, len(counts))
    else:
        edges = value.get("bins")
        if not isinstance(edges, list) or not all(_is_number(edge) for edge in edges):
            raise HistogramError("Its bin edges are not all numbers.")
        if len(edges) != len(counts) + 1:
            raise HistogramError(
                f"It has {len(counts)} counts but {len(edges)} bin edges"
                f" ({len(counts) + 1} expected)."
            )
    if any(b < a for a, b in pairwise(edges)):
        raise HistogramError("Its bin edges are not in ascending order.")
    return Histogram(edges, counts)


def histogram_bars(value) -> dict:
    """What the panel draws for one step: {"bars": ...} or {"error": reason}."""
    try:
        return {"bars": parse_histogram(value).bars()}
    except HistogramError as error:
        return {"error": str(error)}


# The heat map over steps


def sample_steps(steps: list[int], limit: int) -> list[int]:
    """At most `limit` of the steps, evenly spread, the first and the last always among them."""
    if len(steps) <= limit:
        return list(steps)
    last = len(steps) - 1
    return [steps[round(index * last / (limit - 1))] for index in range(limit)]


def resample(histogram: Histogram, low: float, high: float, rows: int) -> list[float]:
    """The histogram's counts spread onto `rows` equal bins from `low` to `high`, each source bin
    shared out by overlap (its values taken as evenly spread inside it)."""
    size = (high - low) / rows
    grid = [0.0] * rows
    for (start, end), count in zip(pairwise(histogram.edges), histogram.counts, strict=True):
        if not count:
            continue
        first = min(rows - 1, max(0, int((start - low) / size)))
        if end <= start:  # a bin of zero width: all its count at one point
            grid[first] += count
            continue
        last = min(rows - 1, int((end - low) / size))
        for row in range(first, last + 1):
            overlap = min(end, low + (row + 1) * size) - max(start, low + row * size)
            if overlap > 0:
                grid[row] += count * overlap / (end - start)
    return grid


def _rounded(number: float) -> float:
    return float(f"{number:.6g}")


@dataclass
class Heatmap:
    """A histogram key over its steps, ready for plotly: z[row][column] is the count of grid bin
    `row` at step x[column]."""

    steps: int  # how many steps the key logged
    data: dict = field(default_factory=dict)  # {"x", "y", "z"}; empty if nothing to draw
    skipped: list[str] = field(default_factory=list)

    @property
    def shown(self) -> int:
        return len(self.data.get("x", []))

    @property
    def sampled(self) -> bool:
        return 0 < self.shown < self.steps

    @property
    def notes(self) -> list[str]:
        if len(self.skipped) <= MAX_NOTES:
            return self.skipped
        more = len(self.skipped) - MAX_NOTES
        return [*self.skipped[:MAX_NOTES], f"… and {more} more step{'s' if more > 1 else ''}."]


def heatmap(values: list[tuple[int, object]], steps: int, rows: int = HEATMAP_ROWS) -> Heatmap:
    """The heat map of (step, logged value) pairs in step order; `steps` is how many steps the
    key logged in all (the pairs may be a sample of them)."""
    result = Heatmap(steps)
    histograms = []
    for step, value in values:
        try:
            histograms.append((step, parse_histogram(value)))
        except HistogramError as error:
            result.skipped.append(f"Step {step} skipped: {error}")
    if len(histograms) < 2:
        return result  # one step is the bar chart already
    low = min(histogram.edges[0] for _, histogram in histograms)
    high = max(histogram.edges[-1] for _, histogram in histograms)
    if high <= low:  # every value the same: give the grid some width around it
        low, high = low - 0.5, high + 0.5
    size = (high - low) / rows
    columns = [resample(histogram, low, high, rows) for _, histogram in histograms]
    result.data = {
        "x": [step for step, _ in histograms],
        "y": [_rounded(low + (row + 0.5) * size) for row in range(rows)],
        "z": [[_rounded(column[row]) for column in columns] for row in range(rows)],
    }
    return result


def attach_heatmaps(run: Run, panels: list) -> None:
    """Give each histogram panel its heat map: one query for every histogram key's sampled
    steps, none when the run logged no histograms."""
    histogram_panels = [panel for panel in panels if panel.kind == HISTOGRAM]
    if not histogram_panels:
        return
    sampled = {
        panel.key: sample_steps(panel.steps, HEATMAP_MAX_STEPS) for panel in histogram_panels
    }
    wanted = reduce(or_, (Q(key__name=key, step__in=steps) for key, steps in sampled.items()))
    rows = (
        RichValue.objects.filter(run=run, key__stream=MetricKey.Stream.HISTORY)
        .filter(wanted)
        .order_by("step")
        .values_list("key__name", "step", "value")
    )
    values_by_key: dict[str, list] = {}
    for key, step, value in rows:
        values_by_key.setdefault(key, []).append((step, value))
    for panel in histogram_panels:
        panel.heatmap = heatmap(values_by_key.get(panel.key, []), len(panel.steps))


# The run page's summary: a histogram small enough for a table cell


def histogram_sparkline(value, width: int = 160, height: int = 32) -> list[dict] | None:
    """SVG rectangles (x, y, width, height) of the histogram's bars in a `width` x `height` box;
    None if the value is not a readable histogram."""
    try:
        histogram = parse_histogram(value)
    except HistogramError:
        return None
    low, high = histogram.edges[0], histogram.edges[-1]
    span = (high - low) or 1.0
    tallest = max((abs(count) for count in histogram.counts), default=0) or 1.0
    bars = []
    for (start, end), count in zip(pairwise(histogram.edges), histogram.counts, strict=True):
        bar_height = round(height * abs(count) / tallest, 2)
        bars.append(
            {
                "x": round(width * (start - low) / span, 2),
                "y": round(height - bar_height, 2),
                "width": max(round(width * (end - start) / span, 2), 0.5),
                "height": bar_height,
            }
        )
    return bars
