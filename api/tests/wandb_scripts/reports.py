"""Reading a project's reports with the real wandb client: api.reports(path) (every report,
and a page at a time), api.reports(path, name=key), what a BetaReport holds, and the runs of a
section.

Usage: reports.py RESULT.json PATH [NAME]
"""

import json
import sys

import wandb

result_path, path = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else None
result = {}
try:
    api = wandb.Api(timeout=30)
    reports = list(api.reports(path))
    result["titles"] = [report.display_name for report in reports]
    result["paged"] = [
        report.display_name for report in wandb.Api(timeout=30).reports(path, per_page=2)
    ]
    result["reports"] = [
        {
            "id": report.id,
            "name": report.name,
            "description": report.description,
            "user": report.user,
            "created_at": report.created_at,
            "updated_at": report.updated_at,
            "url": report.url,
            "spec_blocks": [block["kind"] for block in report.spec["blocks"]],
            "sections": len(report.sections),
            "section_runs": sorted(run.id for run in report.runs(report.sections[0]))
            if report.sections
            else [],
        }
        for report in reports
    ]
    if name:
        result["named"] = [report.display_name for report in api.reports(path, name=name)]
except Exception as error:
    result["error"] = f"{type(error).__name__}: {error}"
with open(result_path, "w") as out:
    json.dump(result, out, default=str)
