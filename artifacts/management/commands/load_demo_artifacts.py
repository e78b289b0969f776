import base64
import csv
import hashlib
import io
import json
import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from artifacts.models import ArtifactCollection
from artifacts.registry import REGISTRY_PROJECT, artifact_link
from artifacts.services import (
    artifact_commit,
    artifact_create,
    artifact_file_store,
    artifact_files_create,
    artifact_manifest_store,
    artifact_use,
)
from projects.models import Project
from runs.tracking import writable_project

PROJECT = ("example-team", "resnet")


class Command(BaseCommand):
    help = (
        "Load demo artifacts into the demo project (after load_demo_data): a dataset in two "
        "versions, models trained on it by the project's runs, and an evaluation that used "
        "the best model. Safe to rerun."
    )

    @transaction.atomic
    def handle(self, **options):
        project = (
            Project.objects.filter(entity__name=PROJECT[0], name=PROJECT[1])
            .select_related("entity")
            .first()
        )
        if project is None:
            raise CommandError("Load the demo data first: manage.py load_demo_data")
        if ArtifactCollection.objects.filter(project=project).exists():
            self.stdout.write("Demo artifacts already loaded.")
            return
        runs = list(project.runs.order_by("created_at")[:6])
        if len(runs) < 6:
            raise CommandError("The demo project needs at least 6 runs.")
        rng = random.Random(3)
        prepare, trainers, evaluation = runs[0], runs[1:5], runs[5]
        datasets = [
            log(project, prepare, "dataset", "cifar10", dataset_files(rng, rows), aliases)
            for rows, aliases in ((40, []), (60, ["clean"]))
        ]
        models = []
        for index, run in enumerate(trainers):
            used = datasets[0 if index == 0 else 1]
            artifact_use(artifact=used, run=run)
            aliases = ["best"] if index == 2 else []
            models.append(log(project, run, "model", "resnet50", model_files(rng, run), aliases))
        artifact_use(artifact=models[2], run=evaluation)
        log(project, evaluation, "evaluation", "test-report", report_files(rng), [])
        register(project, models)
        self.stdout.write(
            f"Loaded demo artifacts into {project.path}: cifar10 (2 versions), "
            f"resnet50 ({len(models)} versions), test-report; resnet50 v1 and v2 registered "
            f"as {project.entity.name}/{REGISTRY_PROJECT}/cifar-classifier."
        )


def register(project, models):
    """The team's admin registers the best model in production and a newer one in staging."""
    admin = get_user_model().objects.get(username="alice")
    registry = writable_project(admin, project.entity, REGISTRY_PROJECT)
    for model, alias in ((models[1], "production"), (models[2], "staging")):
        artifact_link(
            artifact=model,
            project=registry,
            portfolio_name="cifar-classifier",
            aliases=[alias],
            actor=admin,
        )


def log(project, run, type_name, name, files: dict[str, bytes], aliases):
    """A version logged as the wandb client does: create, announce files, upload, manifest,
    commit."""
    digest = hashlib.md5(b"".join(sorted(files.values()))).hexdigest()
    artifact = artifact_create(
        project=project,
        run=run,
        type_name=type_name,
        name=name,
        digest=digest,
        aliases=aliases,
        metadata={"files": len(files), "logged_by": run.display_name},
    )
    md5s = {
        name: base64.b64encode(hashlib.md5(data).digest()).decode() for name, data in files.items()
    }
    for artifact_file, needs_upload in artifact_files_create(
        artifact=artifact, files=list(md5s.items())
    ):
        if needs_upload:
            artifact_file_store(artifact_file, io.BytesIO(files[artifact_file.name]))
    contents = {name: {"digest": md5s[name], "size": len(data)} for name, data in files.items()}
    manifest = {"version": 1, "storagePolicy": "wandb-storage-policy-v1", "contents": contents}
    artifact_manifest_store(artifact, io.BytesIO(json.dumps(manifest).encode()))
    return artifact_commit(artifact)


def dataset_files(rng, rows: int) -> dict[str, bytes]:
    labels = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship"]
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["image", "label"])
    for row in range(rows):
        writer.writerow([f"images/{row:05}.png", rng.choice(labels)])
    readme = f"# CIFAR-10 sample\n\n{rows} labelled images, split 80/20.\n"
    return {
        "README.md": readme.encode(),
        "labels.json": json.dumps(labels, indent=2).encode(),
        "train.csv": table.getvalue().encode(),
    }


def model_files(rng, run) -> dict[str, bytes]:
    config = {key: value for key, value in run.config.items() if key != "_wandb"}
    return {
        "model.pt": rng.randbytes(4096),
        "config.json": json.dumps(config, indent=2, sort_keys=True).encode(),
        "metrics.json": json.dumps(run.summary, indent=2, sort_keys=True, default=str).encode(),
    }


def report_files(rng) -> dict[str, bytes]:
    rows = "class,precision,recall\n" + "".join(
        f"{name},{rng.uniform(0.7, 0.99):.3f},{rng.uniform(0.7, 0.99):.3f}\n"
        for name in ("airplane", "bird", "cat", "dog", "ship")
    )
    return {"per_class.csv": rows.encode()}
