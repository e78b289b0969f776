"""Link a model into the team's registry and promote it, as a training job and a colleague
would.

Usage: registry.py RESULT.json ENTITY log   (log a model, link it, try to promote it)
       registry.py RESULT.json ENTITY promote   (promote v0 to production, unlink from "scratch")
"""

import json
import os
import sys

import wandb

result_path, entity, step = sys.argv[1], sys.argv[2], sys.argv[3]
registry = f"{entity}/model-registry"
result = {}


def attempt(key, action):
    try:
        result[key] = action()
    except Exception as error:
        result[key] = {"error": str(error)}


if step == "log":
    weights = os.path.join(os.getcwd(), "weights.bin")
    with open(weights, "wb") as handle:
        handle.write(b"\x01" * 512)
    with wandb.init(entity=entity, project="training") as run:
        run.summary["accuracy"] = 0.93
        run.link_model(weights, registered_model_name="classifier", name="resnet")
        logged = run.use_artifact("resnet:latest")
        scratch = run.link_artifact(logged, "model-registry/scratch")
        result["scratch"] = scratch.qualified_name
    api = wandb.Api(timeout=30)
    linked = api.artifact(f"{registry}/classifier:latest")
    result["linked"] = {
        "is_link": linked.is_link,
        "version": linked.version,
        "source": linked.source_qualified_name,
        "collection": linked.collection.name,
    }
    source = api.artifact(f"{entity}/training/resnet:v0")
    result["memberships"] = sorted(link.qualified_name for link in source.linked_artifacts)
    attempt("promote", lambda: source.link(f"{registry}/classifier", aliases=["production"]).name)
else:
    api = wandb.Api(timeout=30)
    source = api.artifact(f"{entity}/training/resnet:v0")
    source.link(f"{registry}/classifier", aliases=["production"])
    production = api.artifact(f"{registry}/classifier:production")
    result["production"] = {"version": production.version, "source": production.source_name}
    api.artifact(f"{registry}/scratch:v0").unlink()
    result["scratch_exists"] = api.artifact_exists(f"{registry}/scratch:v0")
    result["source_exists"] = api.artifact_exists(f"{entity}/training/resnet:v0")

with open(result_path, "w") as out:
    json.dump(result, out)
