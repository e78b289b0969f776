"""Everything needed to run a run again, as one shell script a user copies: the code at its
commit with the uncommitted changes the run had, its requirements, its config, its input
artifacts and its command line; and, for each artifact it logged, the Python that restores it.

Every value comes from what the client sent, so every value is quoted for the shell."""

import json
import shlex
from dataclasses import dataclass

CHECKOUT = "code"  # the folder the script clones into


@dataclass(frozen=True)
class Reproduction:
    script: str
    restores: list[tuple[str, str]]  # (artifact path, Python that downloads it)
    complete: bool  # False when the run sent no code version to check out


def reproduction(
    run, *, base_url: str, command: str, artifacts: dict, files: set[str]
) -> Reproduction:
    """`files`: which of diff.patch and requirements.txt the run uploaded."""
    run_path = f"{run.project.entity.name}/{run.project.name}/{run.run_id}"
    lines = [
        "#!/usr/bin/env bash",
        f"# Reproduce the run {run.display_name} ({run_path}).",
        "# Needs git, Python and the wandb client, with WANDB_API_KEY set to your key.",
        "set -euo pipefail",
        f"export WANDB_BASE_URL={shlex.quote(base_url)}",
    ]
    complete = bool(run.git_remote and run.git_commit)
    if complete:
        lines += [
            "",
            "# The code at the run's commit",
            f"git clone {shlex.quote(run.git_remote)} {CHECKOUT}",
            f"cd {CHECKOUT}",
            f"git checkout {shlex.quote(run.git_commit)}",
        ]
    else:
        lines += ["", "# The run sent no git remote and commit: start from your own copy."]
    if "diff.patch" in files:
        lines += [
            "",
            "# The changes the run had on top of its commit",
            _download_file(run_path, "diff.patch"),
            "git apply diff.patch",
        ]
    if "requirements.txt" in files:
        lines += [
            "",
            "# The packages the run had installed",
            _download_file(run_path, "requirements.txt"),
            "pip install -r requirements.txt",
        ]
    config = {key: value for key, value in _dict(run.config).items() if key != "_wandb"}
    if config:
        lines += [
            "",
            "# The run's config, for a script that reads it from a file",
            # Indented JSON: no line of it can be the here-document's end marker.
            "cat > config.json <<'TEAMSITE_CONFIG'",
            json.dumps(config, indent=2, sort_keys=True),
            "TEAMSITE_CONFIG",
        ]
    used = artifacts.get("used", [])
    if used:
        lines += ["", "# The artifacts the run used"]
        for artifact in used:
            path = artifact_path(artifact)
            root = f"artifacts/{artifact.collection.name}-{artifact.version}"
            lines.append(f"wandb artifact get {shlex.quote(path)} --root {shlex.quote(root)}")
    if command:
        lines += ["", "# The command line", command]
    restores = [
        (artifact_path(artifact), _restore(artifact)) for artifact in artifacts.get("logged", [])
    ]
    return Reproduction(script="\n".join(lines) + "\n", restores=restores, complete=complete)


def artifact_path(artifact) -> str:
    project = artifact.collection.project
    return f"{project.entity.name}/{project.name}/{artifact.collection.name}:{artifact.version}"


def _download_file(run_path: str, name: str) -> str:
    python = f"import wandb; wandb.Api().run({run_path!r}).file({name!r}).download(replace=True)"
    return f"python -c {shlex.quote(python)}"


def _restore(artifact) -> str:
    return (
        "import wandb\n\n"
        f"artifact = wandb.Api().artifact({artifact_path(artifact)!r})\n"
        "path = artifact.download()  # the folder holding its files\n"
    )


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}
