"""The code a run saved with `run.log_code()`: the client logs it as an artifact of type "code"
(named `source-<project>-<program>`), one file per source file. The run page lists its files;
each opens with the run's other files' preview.

Read through the run's artifact relations (runs never imports the artifacts app)."""

from dataclasses import dataclass

from .selectors import run_logged_artifacts

CODE_TYPE = "code"
FILES_SHOWN = 200


@dataclass(frozen=True)
class RunCode:
    artifact: object  # the code's artifact version
    files: list  # its first FILES_SHOWN stored files, by name
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.files)


def _code_versions(versions, run):
    return versions.committed().filter(
        collection__project=run.project_id, collection__type=CODE_TYPE
    )


def run_code_artifact(run):
    """The committed code version the run logged last (or logged again: unchanged code is the
    version an earlier run logged), else the one it used."""
    logged = _code_versions(run_logged_artifacts(run), run).select_related("collection")
    used = _code_versions(run.used_artifacts, run).select_related("collection")
    return (
        logged.order_by("-created_at", "-pk").first() or used.order_by("-created_at", "-pk").first()
    )


def _stored_files(artifact):
    return artifact.files.stored().order_by("name")


def run_code(run) -> RunCode | None:
    artifact = run_code_artifact(run)
    if artifact is None:
        return None
    files = list(_stored_files(artifact)[:FILES_SHOWN])
    total = len(files) if len(files) < FILES_SHOWN else _stored_files(artifact).count()
    return RunCode(artifact=artifact, files=files, total=total)


def run_code_file(run, name: str) -> tuple | None:
    """(artifact version, file) of the run's code named `name`, or None."""
    artifact = run_code_artifact(run)
    if artifact is None:
        return None
    file = _stored_files(artifact).filter(name=name).first()
    return None if file is None else (artifact, file)
