"""The live content of a report's blocks, read when the page is shown: Markdown to HTML and
each panel's runs, figure, rows, images or card (run_panels.py, cards.py). A panel whose
query cannot be answered says so; nothing a panel names makes the page fail."""

from runs.query import QueryError

from ..blocks import Kind
from ..markdown import render_markdown
from . import cards, run_panels
from .base import RenderedBlock, describe_run_set
from .run_panels import CHART_BUCKETS, frozen_ids

__all__ = [
    "CHART_BUCKETS",
    "RenderedBlock",
    "describe_run_set",
    "frozen_ids",
    "render_blocks",
    "without_site_addresses",
]

RENDERERS = {
    Kind.LINE_CHART: run_panels.line_chart,
    Kind.RUNS_TABLE: run_panels.runs_table,
    Kind.LEADERBOARD: run_panels.leaderboard,
    Kind.SCATTER: run_panels.scatter,
    Kind.PARALLEL_COORDINATES: run_panels.parallel_coordinates,
    Kind.MEDIA: cards.media,
    Kind.ARTIFACT: cards.artifact,
    Kind.REGISTERED_MODEL: cards.registered_model,
}


def render_blocks(project, blocks: list[dict]) -> list[RenderedBlock]:
    """Each block ({"key", "kind", "config"}, a draft's or a version's) with what it shows."""
    rendered = []
    for item in blocks:
        block = RenderedBlock(key=item["key"], kind=item["kind"], config=item["config"])
        try:
            if block.kind == Kind.TEXT:
                block.html = render_markdown(block.config.get("markdown", ""))
            elif block.kind in RENDERERS:
                RENDERERS[block.kind](project, block)
        except QueryError as error:
            block.error = f"The runs of this panel cannot be read: {error}."
        rendered.append(block)
    return rendered


def without_site_addresses(blocks: list[RenderedBlock]) -> list[RenderedBlock]:
    """The blocks for a reader who may not open the project's pages (or a file read offline):
    templates show them no links, and figures lose the run addresses a click would follow, so
    the page's data names no page of the project either."""
    for block in blocks:
        for trace in (block.figure or {}).get("data", []):
            links = trace.get("customdata")
            if isinstance(links, list) and all(isinstance(v, str | None) for v in links):
                del trace["customdata"]
    return blocks
