"""Versions logged as the client logs them (create, files, manifest, commit), for the tests of
the artifact pages."""

import base64
import hashlib
import io
import json

from artifacts.services import (
    artifact_commit,
    artifact_create,
    artifact_file_store,
    artifact_files_create,
    artifact_manifest_store,
    artifact_use,
)


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def log_version(project, run, name, files: dict, *, type_name="model", aliases=(), **fields):
    """A committed version of `name` holding `files` ({name: bytes}), logged by `run`."""
    digest = hashlib.md5(json.dumps(sorted((k, b64md5(v)) for k, v in files.items())).encode())
    artifact = artifact_create(
        project=project,
        run=run,
        type_name=type_name,
        name=name,
        digest=digest.hexdigest(),
        aliases=list(aliases),
        **fields,
    )
    created = artifact_files_create(
        artifact=artifact, files=[(file_name, b64md5(data)) for file_name, data in files.items()]
    )
    for file, needs_upload in created:
        if needs_upload:
            artifact_file_store(file, io.BytesIO(files[file.name]))
    contents = {k: {"digest": b64md5(v), "size": len(v)} for k, v in files.items()}
    artifact_manifest_store(artifact, io.BytesIO(json.dumps({"contents": contents}).encode()))
    return artifact_commit(artifact)


def use(artifact, *runs):
    for run in runs:
        artifact_use(artifact=artifact, run=run)
