"""Log runs with curves worth charting. Usage: log_curves.py RESULT.json ENTITY PROJECT NAME..."""

import json
import math
import sys

import wandb

result_path, entity, project, *names = sys.argv[1:]
ids = []
for index, name in enumerate(names):
    run = wandb.init(entity=entity, project=project, name=name, config={"lr": 0.01 * (index + 1)})
    for step in range(300):
        run.log(
            {
                "train/loss": math.exp(-step / (80 + 40 * index)) + (0.8 if step == 150 else 0),
                "val/accuracy": 1 - math.exp(-step / 100),
            }
        )
    print(f"epoch done for {name}", flush=True)
    run.finish()
    ids.append(run.id)
with open(result_path, "w") as out:
    json.dump({"ids": ids}, out)
