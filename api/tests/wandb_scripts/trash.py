"""Delete, list and log again through the wandb client, for the trash's tests.

Usage: trash.py RESULT.json delete ENTITY/PROJECT RUN_ID   (run.delete(), then api.runs())
       trash.py RESULT.json list ENTITY/PROJECT            (api.runs())
       trash.py RESULT.json init ENTITY PROJECT RUN_ID     (wandb.init with that run id)
"""

import json
import sys

import wandb

result_path, action, *args = sys.argv[1:]
result = {}
try:
    if action == "init":
        entity, project, run_id = args
        try:
            run = wandb.init(entity=entity, project=project, id=run_id, resume="allow")
            run.log({"loss": 0.5})
            run.finish()
            result["logged"] = run.id
        except Exception as error:
            result["init_error"] = f"{type(error).__name__}: {error}"
    else:
        api = wandb.Api(timeout=30)
        path = args[0]
        if action == "delete":
            api.run(f"{path}/{args[1]}").delete()
        result["runs"] = sorted(run.id for run in api.runs(path))
except Exception as error:
    result["error"] = f"{type(error).__name__}: {error}"
with open(result_path, "w") as out:
    json.dump(result, out)
