"""Log a run whose validation loss improves, then regresses past 1 and stays there for a few
seconds, sent over several chunks. Usage: log_regression.py RESULT.json ENTITY PROJECT NAME"""

import json
import sys
import time

import wandb

result_path, entity, project, name = sys.argv[1:]
# A chunk every second (the client reads whole seconds), so the regression spans several.
settings = wandb.Settings(x_file_stream_transmit_interval=1)
run = wandb.init(entity=entity, project=project, name=name, settings=settings)
improving = [0.9 - 0.05 * step for step in range(6)]  # 0.9 down to 0.65
regressing = [0.6 + 0.2 * step for step in range(14)]  # 0.6 up to 3.2: above 1 from 1.2
for val_loss in improving + regressing:
    run.log({"val_loss": val_loss})
    time.sleep(0.25)  # an epoch
run.finish()
with open(result_path, "w") as out:
    json.dump({"id": run.id}, out)
