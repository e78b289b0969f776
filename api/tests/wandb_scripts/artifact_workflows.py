"""What a team does with artifacts beyond logging one: two workers write one dataset together,
a colleague builds a new version from a logged one, and the collection is renamed, retyped,
described and tagged.

Usage: artifact_workflows.py RESULT.json ENTITY
"""

import json
import os
import sys

import wandb

result_path, entity = sys.argv[1], sys.argv[2]
project = "workflows"
result = {}

# Two workers each write their shard of one version; a third run finishes it.
for shard in ("a", "b"):
    with wandb.init(entity=entity, project=project, group="shards") as run:
        part = wandb.Artifact("corpus", "dataset")
        with part.new_file(f"shard-{shard}.txt") as handle:
            handle.write(f"rows of shard {shard}\n")
        run.upsert_artifact(part, distributed_id="shards")
with wandb.init(entity=entity, project=project, group="shards") as run:
    run.finish_artifact(wandb.Artifact("corpus", "dataset"), distributed_id="shards")

api = wandb.Api(timeout=30)
corpus = api.artifact(f"{entity}/{project}/corpus:latest")
result["corpus"] = {"version": corpus.version, "files": sorted(corpus.manifest.entries)}
folder = corpus.download(root=os.path.join(os.getcwd(), "corpus"))
result["corpus_downloaded"] = sorted(os.listdir(folder))

# A new version from the logged one: its file is kept without being uploaded again.
draft = corpus.new_draft()
with draft.new_file("shard-c.txt") as handle:
    handle.write("rows of shard c\n")
with wandb.init(entity=entity, project=project) as run:
    run.log_artifact(draft).wait()
grown = api.artifact(f"{entity}/{project}/corpus:latest")
folder = grown.download(root=os.path.join(os.getcwd(), "grown"))
result["grown"] = {"version": grown.version, "files": sorted(os.listdir(folder))}
with open(os.path.join(folder, "shard-a.txt")) as handle:
    result["grown_shard_a"] = handle.read()

# The collection as a whole.
collection = api.artifact_collection("dataset", f"{entity}/{project}/corpus")
collection.name = "corpus-v2"
collection.type = "training-data"
collection.description = "Both shards and the third."
collection.tags = ["text", "curated"]
collection.save()
renamed = api.artifact_collection("training-data", f"{entity}/{project}/corpus-v2")
result["collection"] = {
    "name": renamed.name,
    "type": renamed.type,
    "description": renamed.description,
    "tags": sorted(renamed.tags),
    "aliases": sorted(renamed.aliases),
}
renamed.tags = ["text"]
renamed.save()
result["tags_after_removal"] = api.artifact_collection(
    "training-data", f"{entity}/{project}/corpus-v2"
).tags
result["latest_type"] = api.artifact(f"{entity}/{project}/corpus-v2:latest").type

with open(result_path, "w") as out:
    json.dump(result, out)
