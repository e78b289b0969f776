"""Log nested metrics, a media value inside a nested dict and a nested summary, then read them
back through wandb.Api(). Usage: log_nested.py RESULT.json ENTITY"""

import json
import sys

import wandb

result_path, entity = sys.argv[1:]
result = {}
try:
    run = wandb.init(entity=entity, project="nested", name="nested")
    for step in range(10):
        row = {"train": {"loss": 1 / (step + 1), "acc": step / 10}, "lr": 0.1}
        if step == 0:
            row["eval"] = {"page": wandb.Html("<p>first</p>")}
        run.log(row)
    run.summary["final"] = {"nested": {"x": 1}}
    run.finish()
    result["id"] = run.id

    read = wandb.Api(timeout=30).run(f"{entity}/nested/{run.id}")
    result.update(
        history=read.history(keys=["train.loss"], pandas=False),
        pages=list(read.scan_history(keys=["train.loss", "train.acc"], page_size=2)),
        scanned=list(read.scan_history(page_size=3)),
        summary_x=read.summary["final"]["nested"]["x"],
    )
except Exception as error:
    result["error"] = f"{type(error).__name__}: {error}"
with open(result_path, "w") as out:
    json.dump(result, out, default=str)
