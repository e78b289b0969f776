"""The run page's summary: a value that is a media reference (an image, a histogram, a table...)
shows as a thumbnail, a small histogram or links to its files, never as the raw dict the client
stored."""

from dataclasses import dataclass, field

from .histograms import histogram_sparkline
from .kinds import HISTOGRAM, MediaItem, kind_of, media_items

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


def summary_rows(summary, files) -> list[SummaryRow]:
    """The summary's visible keys in order; `files` are the run's uploaded files (the page has
    them already), so no row costs a query."""
    if not isinstance(summary, dict):
        return []
    files_by_name = {file.name: file for file in files}
    rows = []
    for key, value in sorted(summary.items()):
        if key.startswith("_"):
            continue
        row = SummaryRow(key, value, kind_of(value))
        if row.kind == HISTOGRAM:
            row.sparkline = histogram_sparkline(value)
        elif row.kind:
            row.items = media_items(value)
            for item in row.items:
                item.file = files_by_name.get(item.name)
        rows.append(row)
    return rows
