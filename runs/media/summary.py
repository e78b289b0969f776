"""The run page's summary: a value that is a media reference (an image, a histogram, a table...)
shows as a thumbnail, a small histogram or links to its files, never as the raw dict the client
stored."""

from dataclasses import dataclass, field

from runs.models import Run

from .histograms import histogram_sparkline
from .kinds import HISTOGRAM, MediaItem, attach_files, kind_of, media_items

KIND_LABELS = {
    "image": "Image",
    "table": "Table",
    "histogram": "Histogram",
    "audio": "Audio",
    "video": "Video",
    "html": "HTML",
    "object3d": "3D object",
    "molecule": "Molecule",
    "plotly": "Plotly figure",
    "bokeh": "Bokeh plot",
}


@dataclass
class SummaryRow:
    key: str
    value: object
    kind: str | None = None  # the media kind, None for a plain value
    items: list[MediaItem] = field(default_factory=list)
    sparkline: list[dict] | None = None  # a histogram's bars

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, "")


def summary_rows(run: Run) -> list[SummaryRow]:
    """The summary's visible keys in order; the files its media name cost one query for all
    rows, none when the summary holds no media."""
    summary = run.summary
    if not isinstance(summary, dict):
        return []
    rows = []
    for key, value in sorted(summary.items()):
        if key.startswith("_"):
            continue
        row = SummaryRow(key, value, kind_of(value))
        if row.kind == HISTOGRAM:
            row.sparkline = histogram_sparkline(value)
        elif row.kind:
            row.items = media_items(value)
        rows.append(row)
    attach_files(run, [item for row in rows for item in row.items])
    return rows
