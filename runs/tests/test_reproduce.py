"""The run page's Reproduce panel: one script that runs the run again. The script is run for
real here, against a git repository on disk, with git itself and with stand-ins for python,
pip and wandb that record what they were asked to do."""

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from artifacts.models import Artifact, ArtifactCollection
from runs.tracking import run_file_store, run_files_create
from tests.factories import ProjectFactory, RunFactory

ORIGINAL = "lr = 0.1\nprint('training')\n"
PATCH = """--- a/train.py
+++ b/train.py
@@ -1,2 +1,3 @@
 lr = 0.1
+lr = lr / 2
 print('training')
"""
# Stand-ins: python fetches the run's files (as the client would) or records the command.
FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1" = "-c" ]; then
  case "$2" in
    *diff.patch*) cp "$FAKE_FILES/diff.patch" diff.patch ;;
    *requirements.txt*) cp "$FAKE_FILES/requirements.txt" requirements.txt ;;
  esac
  echo "python -c $2" >> "$FAKE_LOG"
else
  echo "python $*" >> "$FAKE_LOG"
fi
"""
FAKE_TOOL = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$FAKE_LOG"
"""


def git(*args, cwd):
    command = ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repository(tmp_path):
    """A git repository whose first commit is the run's; a later commit changes the file."""
    repo = tmp_path / "origin repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / "train.py").write_text(ORIGINAL)
    git("add", "train.py", cwd=repo)
    git("commit", "-q", "-m", "first", cwd=repo)
    commit = git("rev-parse", "HEAD", cwd=repo).strip()
    (repo / "train.py").write_text("changed later\n")
    git("commit", "-q", "-am", "later", cwd=repo)
    return repo, commit


def upload(run, actor, name, data: bytes):
    [file] = run_files_create(actor=actor, run=run, names=[name])
    run_file_store(file, io.BytesIO(data))


@pytest.fixture
def run(team, alice, repository):
    repo, commit = repository
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    run = RunFactory(
        project=project,
        author=alice,
        run_id="abc123",
        git_remote=str(repo),
        git_commit=commit,
        config={"lr": 0.1, "note": "it's $(whoami)", "_wandb": {"cli_version": "0.28.2"}},
        metadata={"program": "train.py", "codePath": "train.py", "args": ["--lr", "0.1"]},
    )
    upload(run, alice, "diff.patch", PATCH.encode())
    upload(run, alice, "requirements.txt", b"numpy>=2\n")
    data = ProjectFactory(entity=team, creator=alice, name="data")
    used = artifact(data, "mnist", 2)
    used.used_by.add(run)
    artifact(project, "model", 0, created_by_run=run)
    return run


def artifact(project, name, index, **fields):
    collection, _ = ArtifactCollection.objects.get_or_create(
        project=project, name=name, defaults={"type": "model"}
    )
    return Artifact.objects.create(
        collection=collection,
        version_index=index,
        digest=f"{name}{index}",
        state=Artifact.State.COMMITTED,
        **fields,
    )


def run_page(client, user, run):
    client.force_login(user)
    url = reverse("runs:detail", args=[run.project.entity.name, run.project.name, run.run_id])
    response = client.get(url)
    assert response.status_code == 200
    return response


def run_script(script: str, tmp_path: Path) -> tuple[Path, list[str]]:
    bin_dir, files, work = tmp_path / "bin", tmp_path / "files", tmp_path / "work"
    for folder in (bin_dir, files, work):
        folder.mkdir()
    for name, text in {"python": FAKE_PYTHON, "pip": FAKE_TOOL, "wandb": FAKE_TOOL}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (files / "diff.patch").write_text(PATCH)
    (files / "requirements.txt").write_text("numpy>=2\n")
    log = tmp_path / "log.txt"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_FILES": str(files),
        "FAKE_LOG": str(log),
        "HOME": str(tmp_path),
    }
    (work / "reproduce.sh").write_text(script)
    subprocess.run(["bash", "reproduce.sh"], cwd=work, env=env, check=True, capture_output=True)
    return work, log.read_text().splitlines()


def test_the_script_checks_out_the_code_with_its_changes_and_runs_the_command(
    client, bob, run, tmp_path
):
    response = run_page(client, bob, run)
    reproduction = response.context["reproduction"]
    assert 'id="reproduce-script"' in response.content.decode()

    work, log = run_script(reproduction.script, tmp_path)

    code = work / "code"
    assert (code / "train.py").read_text() == "lr = 0.1\nlr = lr / 2\nprint('training')\n"
    assert json.loads((code / "config.json").read_text()) == {"lr": 0.1, "note": "it's $(whoami)"}
    assert log[-3:] == [
        "pip install -r requirements.txt",
        "wandb artifact get example-team/data/mnist:v2 --root artifacts/mnist-v2",
        "python train.py --lr 0.1",
    ]
    assert "wandb.Api().run('example-team/resnet/abc123').file('diff.patch')" in log[0]


def test_logged_artifacts_get_a_restore_snippet(client, bob, run):
    reproduction = run_page(client, bob, run).context["reproduction"]

    [(path, python)] = reproduction.restores
    assert path == "example-team/resnet/model:v0"
    assert "wandb.Api().artifact('example-team/resnet/model:v0')" in python
    compile(python, "restore", "exec")


def test_values_from_the_client_cannot_run_commands(client, bob, run, tmp_path):
    run.git_commit = "HEAD; touch pwned"
    run.metadata = {"program": "train.py", "args": ["$(touch pwned)", "`touch pwned`"]}
    run.save()

    script = run_page(client, bob, run).context["reproduction"].script
    with pytest.raises(subprocess.CalledProcessError):  # no such commit: the script stops
        run_script(script, tmp_path)

    assert not list(tmp_path.rglob("pwned"))


def test_a_run_without_git_or_files_still_gets_its_config_and_command(client, bob, team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="scratch")
    bare = RunFactory(project=project, author=alice, config={"lr": 1}, metadata={"program": "t.py"})

    reproduction = run_page(client, bob, bare).context["reproduction"]

    assert not reproduction.complete
    assert "git clone" not in reproduction.script
    assert "git apply" not in reproduction.script
    assert reproduction.script.rstrip().endswith("python t.py")
    assert reproduction.restores == []


def test_the_runs_artifacts_link_to_their_pages_within_the_project(client, bob, run):
    html = run_page(client, bob, run).content.decode()

    assert 'href="/example-team/resnet/artifacts/model/model/v0/"' in html
    assert "<code>mnist:v2</code>" in html  # another project's version: named, not linked
    assert "/example-team/data/artifacts/" not in html
