"""What every panel shares: the block as rendered, and the runs a panel names (a query, a
fixed list of ids, or a query frozen to the runs it matched)."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.urls import reverse

from runs.models import Run
from runs.query import order_by, parse_text, to_q

from ..blocks import Kind


@dataclass
class RenderedBlock:
    key: str
    kind: str
    config: dict
    html: str = ""
    figure: dict | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)  # media: {"src", "url", "caption"}
    card: dict | None = None  # artifact and registered model cards
    notes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def figure_id(self) -> str:
        return f"report-figure-{self.key}"

    @property
    def title(self) -> str:
        config = self.config
        if self.kind == Kind.LINE_CHART:
            return config.get("title") or ", ".join(config.get("metrics", []))
        if self.kind == Kind.RUNS_TABLE:
            return "Runs"
        if self.kind == Kind.LEADERBOARD:
            best = "highest" if config.get("best") == "max" else "lowest"
            return f"Leaderboard: {config.get('metric', '')}, {best} first"
        if self.kind == Kind.SCATTER:
            colour = f", colour {config['color']}" if config.get("color") else ""
            return f"{config.get('y', '')} against {config.get('x', '')}{colour}"
        if self.kind == Kind.PARALLEL_COORDINATES:
            return "Parallel coordinates: " + ", ".join(config.get("columns", []))
        if self.kind == Kind.MEDIA:
            return f"{config.get('key', '')} of run {config.get('run', '')}"
        if self.kind == Kind.ARTIFACT:
            return f"Artifact {config.get('artifact', '')}"
        if self.kind == Kind.REGISTERED_MODEL:
            return f"Registered model {config.get('model', '')}"
        return ""

    @property
    def run_set_text(self) -> str:
        run_set = self.config.get("runs")
        return describe_run_set(run_set) if run_set else ""

    @property
    def frozen_text(self) -> str:
        """“frozen on 2026-12-06: 12 runs” for a frozen run set, else ""."""
        run_set = self.config.get("runs") or {}
        if "frozen" not in run_set:
            return ""
        count = len(run_set["frozen"])
        when = datetime.fromisoformat(run_set["frozen_at"]).date().isoformat()
        return f"frozen on {when}: {count} run{'s' if count != 1 else ''}"


def describe_run_set(run_set: dict) -> str:
    if "ids" in run_set:
        return "runs " + ", ".join(run_set["ids"])
    query = run_set.get("query", "")
    return f"runs where {query}" if query else "every run"


def run_set_q(project, run_set: dict) -> Q:
    """The condition on the project's runs that selects a run set: its frozen ids when it has
    them, else its ids or its query. QueryError if the query cannot be answered."""
    if "frozen" in run_set:
        return Q(run_id__in=run_set["frozen"])
    if "ids" in run_set:
        return Q(run_id__in=run_set["ids"])
    return to_q(parse_text(run_set.get("query", "")), project=project.pk)


@dataclass(frozen=True)
class RunSetFilter:
    """A run set as the workspace panels' one read (runs.panels.panel_rows) takes a filter."""

    project: object
    run_set: dict

    def apply(self, runs):
        return runs.filter(run_set_q(self.project, self.run_set))


def run_set_runs(project, run_set: dict, *, limit: int, sort: str = "") -> tuple[list, bool]:
    """The runs a panel names, newest first unless sorted, at most `limit`; and whether more
    matched. QueryError if its query cannot be answered."""
    runs = Run.objects.filter(project=project).filter(run_set_q(project, run_set))
    if sort:
        runs = runs.order_by(*order_by(sort.removeprefix("-"), descending=sort.startswith("-")))
    else:
        runs = runs.order_by("-created_at", "-pk")
    found = list(runs[: limit + 1])
    return found[:limit], len(found) > limit


def run_url(project, run_id: str) -> str:
    return reverse("runs:detail", args=[project.entity.name, project.name, run_id])
