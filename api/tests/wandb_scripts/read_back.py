"""Read a run back through wandb.Api(), as a colleague's notebook would.

Usage: read_back.py RESULT.json ENTITY/PROJECT [RUN_ID]
"""

import json
import os
import sys
from pathlib import Path

import wandb

result_path, path = sys.argv[1], sys.argv[2]
result = {}
try:
    api = wandb.Api(timeout=30)
    runs = list(api.runs(path))
    result["runs"] = [run.id for run in runs]
    good = {"$and": [{"config.lr": {"$lte": 0.01}}, {"summary_metrics.acc": {"$gt": 0.9}}]}
    result["filtered"] = [
        run.id for run in api.runs(path, filters=good, order="-summary_metrics.acc")
    ]
    result["filtered_out"] = [run.id for run in api.runs(path, {"summary_metrics.acc": {"$gt": 1}})]
    if len(sys.argv) > 3:
        run = api.run(f"{path}/{sys.argv[3]}")
        result.update(
            id=run.id,
            name=run.name,
            state=run.state,
            tags=run.tags,
            notes=run.notes,
            group=run.group,
            job_type=run.job_type,
            config=dict(run.config),
            summary={k: v for k, v in run.summary.items() if not k.startswith("_")},
            history=run.history(pandas=False),
            sampled=run.history(keys=["loss"], samples=10, pandas=False),
            scanned=list(run.scan_history()),
            system=run.history(stream="system", pandas=False),
            files=sorted(f.name for f in run.files()),
        )
        artifact = api.artifact(f"{path}/mymodel:best")
        folder = artifact.download(root=os.path.join(os.getcwd(), "download"))
        result["artifact"] = {
            "version": artifact.version,
            "aliases": sorted(artifact.aliases),
            "files": {
                path.name: path.read_bytes().hex() for path in sorted(Path(folder).iterdir())
            },
        }
        try:
            run.tags = [*run.tags, "reviewed"]
            run.update()
            result["updated_tags"] = api.run(f"{path}/{sys.argv[3]}").tags
        except Exception as error:
            result["update_error"] = f"{type(error).__name__}: {error}"
except Exception as error:
    result["error"] = f"{type(error).__name__}: {error}"
with open(result_path, "w") as out:
    # The client reads logged media back as its own objects: written as their text.
    json.dump(result, out, default=str)
