"""A script that logs a `wandb.Table` with an image column: run by the tests with the real wandb
client, to check what the client uploads and logs for a table and for the images in its cells.

Usage: log_table.py RESULT.json ENTITY
"""

import json
import sys

import wandb
from PIL import Image

result_path, entity = sys.argv[1], sys.argv[2]
run = wandb.init(entity=entity, project="tables", name="scored")

COLORS = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
ROWS = 30
columns = ["id", "label", "score", "sample", "extra"]
data = [
    [
        index,
        # The first label has what CSV must quote: a comma, quotes and a line break.
        'item, "0"\nline two' if index == 0 else f"item {index}",
        round(1 - index / ROWS, 3),
        wandb.Image(Image.new("RGB", (12, 8), COLORS[index % 3]), caption=f"row {index}"),
        {"tags": ["a", "b"], "n": index} if index % 2 else None,
    ]
    for index in range(ROWS)
]
run.log({"loss": 0.5})
run.log({"scores": wandb.Table(columns=columns, data=data)})
run.finish(exit_code=0)

with open(result_path, "w") as out:
    json.dump({"id": run.id, "entity": run.entity, "project": run.project}, out)
