"""A training script as a team writes it: run by the tests with the real wandb client.

Usage: log_story.py RESULT.json [ENTITY] [--unnamed] [--rename NEW_NAME]
  no ENTITY: the user's default entity; --unnamed: no name= (the server makes one up);
  --rename: afterwards, rename the run through wandb.Api() (run.name = ...; run.update()).
"""

import argparse
import json
import os
import sys

import wandb
from PIL import Image

parser = argparse.ArgumentParser()
parser.add_argument("result_path")
parser.add_argument("entity", nargs="?")
parser.add_argument("--unnamed", action="store_true")
parser.add_argument("--rename")
options = parser.parse_args()
result_path, entity = options.result_path, options.entity
try:
    run = wandb.init(
        entity=entity,
        project="resnet",
        name=None if options.unnamed else "baseline",
        config={"lr": 0.01, "epochs": 3, "arch": {"layers": 3}},
        tags=["t1", "t2"],
        notes="first try",
        group="g1",
        job_type="train",
    )
except Exception as error:  # the tests check the message the user sees
    with open(result_path, "w") as out:
        json.dump({"error": f"{type(error).__name__}: {error}"}, out)
    raise SystemExit(3) from None

COLORS = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
for step in range(30):
    row = {"loss": 1 / (step + 1), "acc": step / 30, "train/lr": 0.01, "phase": "warmup"}
    if step < 3:  # a sample image at each of the first steps
        image = Image.new("RGB", (48, 32), COLORS[step])
        row["samples"] = wandb.Image(image, caption=f"sample {step}")
    run.log(row)
run.summary["best"] = 0.99
print("hello from the training script", flush=True)
print("a warning on stderr", file=sys.stderr, flush=True)
run.alert(title="Loss low", text="loss went below 0.05", level=wandb.AlertLevel.WARN)

os.makedirs("src", exist_ok=True)
with open(os.path.join("src", "utils.py"), "w") as handle:
    handle.write("def scale(x):\n    return 2 * x\n")
run.save(os.path.join(os.getcwd(), "src", "utils.py"), base_path=os.getcwd(), policy="now")

weights = os.path.join(os.getcwd(), "model.bin")
with open(weights, "wb") as handle:
    handle.write(bytes(range(256)) * 16)
artifact = wandb.Artifact("mymodel", type="model", description="a model", metadata={"acc": 0.9})
artifact.add_file(weights)
run.log_artifact(artifact, aliases=["best"])
run.finish(exit_code=0)

result = {"id": run.id, "entity": run.entity, "project": run.project, "name": run.name}
if options.rename:
    api = wandb.Api(timeout=30)
    logged = api.run(f"{run.entity}/{run.project}/{run.id}")
    logged.name = options.rename
    logged.update()
    result["renamed"] = api.run(f"{run.entity}/{run.project}/{run.id}").name
with open(result_path, "w") as out:
    json.dump(result, out)
