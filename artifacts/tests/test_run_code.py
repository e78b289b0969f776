"""The code a run saved with run.log_code() (an artifact of type "code"): the run page's Code
section lists its files, each opens highlighted with a link that downloads it; unchanged code
logged again by a later run is that run's code too.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in open-team.
"""

import base64
import hashlib
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from artifacts import services as artifact_services
from artifacts.models import Artifact
from runs import code
from tests.factories import ProjectFactory, RunFactory

TRAIN = b"import os\n\n\ndef main():\n    print(os.getcwd())\n"
UTILS = b"def helper():\n    return 42\n"


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def run(project, alice):
    return RunFactory(project=project, run_id="a6opolcx", author=alice)


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def log_code(run, files: dict[str, bytes], name="source-resnet-train.py") -> Artifact:
    """What run.log_code() makes the server do: create, upload files and manifest, commit."""
    digest = hashlib.md5(json.dumps(sorted(files.items()), default=str).encode()).hexdigest()
    artifact = artifact_services.artifact_create(
        project=run.project, run=run, type_name="code", name=name, digest=digest
    )
    if artifact.state == Artifact.State.COMMITTED:
        return artifact
    created = artifact_services.artifact_files_create(
        artifact=artifact, files=[(path, b64md5(data)) for path, data in files.items()]
    )
    for file, needs_upload in created:
        if needs_upload:
            artifact_services.artifact_file_store(file, io.BytesIO(files[file.name]))
    manifest = {"contents": {path: {"size": len(data)} for path, data in files.items()}}
    artifact_services.artifact_manifest_store(artifact, io.BytesIO(json.dumps(manifest).encode()))
    return artifact_services.artifact_commit(artifact)


def code_url(run, name):
    args = [run.project.entity.name, run.project.name, run.run_id, name]
    return reverse("runs:code", args=args)


def test_the_run_page_lists_the_saved_code(client, run, alice):
    log_code(run, {"train.py": TRAIN, "lib/utils.py": UTILS})
    client.force_login(alice)

    page = client.get(run.get_absolute_url()).content.decode()

    assert "Saved code" in page
    assert "source-resnet-train.py:v0" in page
    assert f'href="{code_url(run, "lib/utils.py")}"' in page
    assert f'href="{code_url(run, "train.py")}"' in page


def test_a_code_file_opens_highlighted_with_a_download_link(client, run, alice):
    log_code(run, {"train.py": TRAIN})
    client.force_login(alice)

    response = client.get(code_url(run, "train.py"))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<span class="kn">import</span>' in page  # Pygments' class for a keyword
    download = reverse(
        "artifacts:file",
        args=["example-team", "resnet", "source-resnet-train.py", 0, "train.py"],
    )
    assert f'href="{download}"' in page
    assert f'href="{run.get_absolute_url()}#code"' in page
    assert b"".join(client.get(download).streaming_content) == TRAIN


@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("bob", 200), ("charlie", 404), (None, 404)]
)
def test_a_private_runs_code_is_seen_by_team_members_only(client, request, run, who, status):
    log_code(run, {"train.py": TRAIN})
    if who:
        client.force_login(request.getfixturevalue(who))

    assert client.get(code_url(run, "train.py")).status_code == status


def test_a_public_runs_code_is_seen_by_anyone(client, public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="bert", visibility="public")
    run = RunFactory(project=project, run_id="p7ublic0", author=alice)
    log_code(run, {"train.py": TRAIN})

    assert client.get(code_url(run, "train.py")).status_code == 200


def test_unchanged_code_logged_again_is_the_later_runs_code_too(client, project, run, alice, bob):
    later = RunFactory(project=project, run_id="l4ter000", author=bob)
    first = log_code(run, {"train.py": TRAIN})

    again = log_code(later, {"train.py": TRAIN})

    assert again == first  # the same version: the files were not sent twice
    assert code.run_code_artifact(later) == first
    client.force_login(bob)
    assert client.get(code_url(later, "train.py")).status_code == 200
    assert "source-resnet-train.py:v0" in client.get(later.get_absolute_url()).content.decode()


def test_the_latest_code_the_run_logged_is_shown(client, run, alice):
    log_code(run, {"train.py": TRAIN})
    log_code(run, {"train.py": TRAIN + b"# changed\n"})
    client.force_login(alice)

    assert code.run_code_artifact(run).version_index == 1
    assert "# changed" in client.get(code_url(run, "train.py")).content.decode()


def test_other_artifacts_and_other_runs_code_are_not_this_runs_code(client, project, run, alice):
    other = RunFactory(project=project, run_id="0ther000", author=alice)
    log_code(other, {"train.py": TRAIN})
    artifact_services.artifact_create(
        project=project, run=run, type_name="model", name="weights", digest="0" * 32
    )
    client.force_login(alice)

    assert code.run_code(run) is None
    assert client.get(code_url(run, "train.py")).status_code == 404
    assert "Saved code" not in client.get(run.get_absolute_url()).content.decode()


def test_an_unknown_code_file_is_404(client, run, alice):
    log_code(run, {"train.py": TRAIN})
    client.force_login(alice)

    assert client.get(code_url(run, "missing.py")).status_code == 404
    assert client.get(code_url(run, "../train.py")).status_code == 404


def test_many_files_are_listed_up_to_a_limit(client, run, alice, monkeypatch):
    monkeypatch.setattr(code, "FILES_SHOWN", 3)
    log_code(run, {f"m{n}.py": UTILS + bytes([65 + n]) for n in range(5)})
    client.force_login(alice)

    listed = code.run_code(run)

    assert [file.name for file in listed.files] == ["m0.py", "m1.py", "m2.py"]
    assert (listed.total, listed.more) == (5, 2)
    assert "and 2 more files." in client.get(run.get_absolute_url()).content.decode()


def test_the_run_page_costs_the_same_queries_for_2_and_30_code_files(
    client, run, alice, django_assert_num_queries
):
    client.force_login(alice)
    client.get(run.get_absolute_url())
    log_code(run, {f"a{n}.py": UTILS + bytes([65 + n]) for n in range(2)})
    with CaptureQueriesContext(connection) as small:
        client.get(run.get_absolute_url())
    log_code(run, {f"b{n}.py": UTILS + bytes([48 + n]) for n in range(30)})

    with django_assert_num_queries(len(small)):
        client.get(run.get_absolute_url())
