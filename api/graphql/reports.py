"""A project's reports as `wandb.Api().reports(path, name=...)` lists them: W&B's "views" of
the type "runs", newest first, a page at a time. Readers get what the report page shows them
(reports.access): the team every report, as published or, never published, its draft; others
the published ones of a project they may see.

`spec` is a JSON object the client's BetaReport parses: `blocks` (each block as the report
holds it: kind and settings) and W&B's `panelGroups`, one per panel that names its runs by id,
with the run set BetaReport.runs(section) turns into `api.runs` filters. A panel that names its
runs by a query keeps the query in `blocks` only: the client's filters could not say it."""

from ariadne import ObjectType

from reports.access import is_team_member
from reports.models import ReportBlock
from reports.selectors import project_reports_page

from .common import MAX_INT64, MAX_PAGE, ApiError, node_id
from .projects import project_type

REPORT_VIEW_TYPE = "runs"  # what the client asks for, and W&B's type of a report
MAX_DESCRIPTION = 300
Kind = ReportBlock.Kind
# The run set of a section as W&B's report editor saves it: every run, the runs in
# `selections.tree` picked (BetaReport.runs adds them to the filters' first AND).
EVERY_RUN = {"op": "OR", "filters": [{"op": "AND", "filters": []}]}
NEWEST_FIRST = {"key": {"section": "run", "name": "createdAt"}, "ascending": False}

view_type = ObjectType("View")


@project_type.field("allViews")
def resolve_all_views(project, _, viewType=REPORT_VIEW_TYPE, viewName=None, first=50, after=None):
    first = max(1, min(first or 50, MAX_PAGE))
    try:
        before = int(after) if after else None
    except ValueError:
        raise ApiError("Invalid cursor.") from None
    if before is not None and not 0 < before <= MAX_INT64:  # a cursor is a report's pk
        raise ApiError("Invalid cursor.")
    reports = []
    if (viewType or REPORT_VIEW_TYPE) == REPORT_VIEW_TYPE:  # Teamsite keeps no other views
        reports = project_reports_page(
            project,
            member=is_team_member(project),
            name=viewName or "",
            before_pk=before,
            limit=first + 1,
        )
    edges = [{"node": report, "cursor": str(report.pk)} for report in reports[:first]]
    return {
        "edges": edges,
        "pageInfo": {
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else after,
            "hasNextPage": len(reports) > first,
            "hasPreviousPage": bool(after),
        },
    }


@view_type.field("id")
def resolve_view_id(report, _):
    return node_id("View", report.pk)


@view_type.field("name")
def resolve_view_name(report, _):
    return report.key


@view_type.field("displayName")
def resolve_view_display_name(report, _):
    return report.shown_title


@view_type.field("type")
def resolve_view_type(*_):
    return REPORT_VIEW_TYPE


@view_type.field("description")
def resolve_view_description(report, _):
    """The first line of the first text block, without Markdown's heading marks."""
    for block in report.shown_blocks:
        if block["kind"] == Kind.TEXT:
            for line in block["config"].get("markdown", "").splitlines():
                if line := line.strip().lstrip("#").strip():
                    return line[:MAX_DESCRIPTION]
            return ""
    return ""


@view_type.field("user")
def resolve_view_user(report, _):
    return report.created_by


@view_type.field("updatedAt")
def resolve_view_updated_at(report, _):
    return report.shown_at


@view_type.field("spec")
def resolve_view_spec(report, _):
    return {
        "version": 1,
        "blocks": [{"kind": b["kind"], "config": b["config"]} for b in report.shown_blocks],
        "panelGroups": [
            _section(block) for block in report.shown_blocks if "ids" in _run_set_of(block)
        ],
    }


def _run_set_of(block) -> dict:
    return block["config"].get("runs") or {}


def _section(block) -> dict:
    config = block["config"]
    title = config.get("title") or ", ".join(config.get("metrics", [])) or "Runs"
    run_ids = _run_set_of(block)["ids"]
    return {
        "name": title,
        "kind": block["kind"],
        "openRunSet": 0,
        "runSets": [
            {
                "name": "runs " + ", ".join(run_ids),
                "enabled": True,
                "filters": EVERY_RUN,
                "sort": NEWEST_FIRST,
                "selections": {"root": 0, "bounds": [], "tree": run_ids},
            }
        ],
    }
