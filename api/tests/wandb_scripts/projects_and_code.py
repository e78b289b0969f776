"""A team lead sets up projects and a run saves its code, with the real wandb client:
Api().create_project, api.projects (more projects than a page), api.project, run.log_code("."),
len(run.files()), run.update_state and `wandb artifact ls`.

Usage: projects_and_code.py RESULT.json ENTITY
"""

import json
import os
import subprocess
import sys

import wandb

result_path, entity = sys.argv[1], sys.argv[2]
result = {}
try:
    api = wandb.Api(timeout=30)
    api.create_project("vision", entity)
    api.create_project("vision", entity)  # again: answered as it is
    for n in range(5):
        api.create_project(f"extra-{n}", entity)
    result["projects"] = [project.name for project in api.projects(entity, per_page=2)]
    project = api.project("vision", entity)
    result["project"] = {"name": project.name, "entity": project.entity}

    os.makedirs("lib", exist_ok=True)
    with open("lib/utils.py", "w") as out:
        out.write("def helper():\n    return 42\n")
    run = wandb.init(entity=entity, project="vision", name="with-code")
    code = run.log_code(".")
    result["code_artifact"] = code.name if code else None
    run.log({"loss": 0.5})
    run.save("lib/utils.py", policy="now")
    run.finish()
    result["run_id"] = run.id

    api = wandb.Api(timeout=30)
    read = api.run(f"{entity}/vision/{run.id}")
    files = read.files(per_page=2)
    result["files_len"] = len(files)
    result["files"] = sorted(file.name for file in files)

    seed = api.create_run(project="vision", entity=entity)
    seeded = api.run(f"{entity}/vision/{seed.id}")
    result["update_state"] = seeded.update_state("failed")
    result["state_after"] = api.run(f"{entity}/vision/{seed.id}").state
    try:
        seeded.update_state("failed")
    except Exception as error:
        result["update_state_again"] = f"{type(error).__name__}: {error}"

    listing = subprocess.run(
        [sys.executable, "-m", "wandb", "artifact", "ls", f"{entity}/vision"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    result["artifact_ls"] = {"code": listing.returncode, "out": listing.stdout + listing.stderr}
except Exception as error:
    result["error"] = f"{type(error).__name__}: {error}"
with open(result_path, "w") as out:
    json.dump(result, out, default=str)
