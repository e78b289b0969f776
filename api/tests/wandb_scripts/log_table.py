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
        f"item, \"{index}\"\nline two" if index == 0 else f"item {index}",
        round(1 - index / ROWS, 3),
        Image.new("RGB", (12, 8), COLORS[index % 3]),
        {"tags": ["a", "b"], "n": index} if index % 2 else None,
    ]
    for index in range(ROWS)
]
data = [[*row[:3], wandb.Image(row[3], caption=f"row {row[0]}"), row[4]] for row in data]
run.log({"loss": 0.5})
run.log({"scores": wandb.Table(columns=columns, data=data)})
run.finish(exit_code=0)

with open(result_path, "w") as out:
    json.dump({"id": run.id, "entity": run.entity, "project": run.project}, out)
