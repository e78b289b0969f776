"""The code a run saved with `run.log_code()`: the client logs it as an artifact of type "code"
(named `source-<project>-<program>`), one file per source file. The run page lists its files;
each opens with the run's other files' preview."""

from dataclasses import dataclass

from django.db.models import Q

from .models import Artifact, ArtifactFile

CODE_TYPE = "code"
FILES_SHOWN = 200


@dataclass(frozen=True)
class RunCode:
    artifact: Artifact
    files: list[ArtifactFile]  # the first FILES_SHOWN, by name
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.files)


def run_code_artifact(run) -> Artifact | None:
    """The committed code version the run logged last (or logged again: unchanged code is the
    version an earlier run logged), else the one it used."""
    versions = Artifact.objects.select_related("collection").filter(
        collection__project=run.project_id,
        collection__type=CODE_TYPE,
        state=Artifact.State.COMMITTED,
    )
    logged = versions.filter(Q(created_by_run=run) | Q(logged_by=run)).distinct()
    return (
        logged.order_by("-created_at", "-pk").first()
        or versions.filter(used_by=run).order_by("-created_at", "-pk").first()
    )


def _stored_files(artifact: Artifact):
    return artifact.files.exclude(size=None).order_by("name")


def run_code(run) -> RunCode | None:
    artifact = run_code_artifact(run)
    if artifact is None:
        return None
    files = list(_stored_files(artifact)[:FILES_SHOWN])
    total = len(files) if len(files) < FILES_SHOWN else _stored_files(artifact).count()
    return RunCode(artifact=artifact, files=files, total=total)


def run_code_file(run, name: str) -> tuple[Artifact, ArtifactFile] | None:
    artifact = run_code_artifact(run)
    if artifact is None:
        return None
    file = _stored_files(artifact).filter(name=name).first()
    return None if file is None else (artifact, file)
