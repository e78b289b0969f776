"""The program a sweep agent starts for each point: the agent passes the point as --lr=...
--layers=... and in the run's config; this logs a loss made of both. Usage (by the agent):
sweep_train.py --lr=LR --layers=N"""

import wandb

run = wandb.init()
for step in range(3):
    run.log({"loss": run.config["lr"] * run.config["layers"] / (step + 1)})
run.finish()
