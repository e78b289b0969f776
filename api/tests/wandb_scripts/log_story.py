"""A training script as a team writes it: run by the tests with the real wandb client.

Usage: log_story.py RESULT.json [ENTITY]   (no ENTITY: the user's default entity)
"""

import json
import os
import sys

import wandb

result_path = sys.argv[1]
entity = sys.argv[2] if len(sys.argv) > 2 else None
try:
    run = wandb.init(
        entity=entity,
        project="resnet",
        name="baseline",
        config={"lr": 0.01, "epochs": 3, "arch": {"layers": 3}},
        tags=["t1", "t2"],
        notes="first try",
        group="g1",
        job_type="train",
    )
except Exception as error:  # the tests check the message the user sees
    with open(result_path, "w") as out:
        json.dump({"error": f"{type(error).__name__}: {error}"}, out)
    sys.exit(3)

for step in range(30):
    run.log({"loss": 1 / (step + 1), "acc": step / 30, "train/lr": 0.01, "phase": "warmup"})
run.summary["best"] = 0.99
print("hello from the training script", flush=True)
print("a warning on stderr", file=sys.stderr, flush=True)
run.alert(title="Loss low", text="loss went below 0.05", level=wandb.AlertLevel.WARN)

weights = os.path.join(os.getcwd(), "model.bin")
with open(weights, "wb") as handle:
    handle.write(bytes(range(256)) * 16)
artifact = wandb.Artifact("mymodel", type="model", description="a model", metadata={"acc": 0.9})
artifact.add_file(weights)
run.log_artifact(artifact, aliases=["best"])
run.finish(exit_code=0)

with open(result_path, "w") as out:
    json.dump({"id": run.id, "entity": run.entity, "project": run.project}, out)
