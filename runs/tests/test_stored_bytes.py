"""Deleting for good frees the storage: a run purged from the trash, a project purged (its
runs' files and its artifact versions' manifests, files and thumbnails), and the Django admin's
deletes of runs and run files. The bytes go once the deletion commits, never before; files an
artifact version of another project shares by digest stay.

The cast comes from tests/personas.py: alice (admin) of example-team."""

import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from artifacts.models import Artifact, ArtifactFile
from artifacts.tests.logged import log_version
from projects import services as project_services
from runs import services, trash
from runs.media.thumbnails import thumbnail_name, thumbnail_prepare
from runs.models import Run, RunFile
from runs.tracking import run_file_store
from teams.models import AuditEvent
from tests.factories import ProjectFactory, RunFactory, UserFactory

pytestmark = pytest.mark.django_db


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(out, "PNG")
    return out.getvalue()


def stored_file(run, name, data: bytes) -> RunFile:
    run_file = RunFile.objects.create(run=run, name=name)
    return run_file_store(run_file, io.BytesIO(data))


def exists(*names) -> list[bool]:
    return [default_storage.exists(name) for name in names]


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def logged(resnet, alice):
    """Run a1 with a text file and an image whose thumbnail is made; run a2 with a file."""
    a1 = RunFactory(project=resnet, run_id="a1", author=alice)
    a2 = RunFactory(project=resnet, run_id="a2", author=alice)
    notes = stored_file(a1, "output.log", b"epoch 1\n")
    image = stored_file(a1, "media/images/sample_0.png", png())
    assert thumbnail_prepare(image)
    other = stored_file(a2, "output.log", b"other run\n")
    return {
        "a1": [notes.storage_name, image.storage_name, thumbnail_name(image)],
        "a2": [other.storage_name],
    }


def test_purging_a_run_removes_its_files_and_thumbnails_after_commit(
    resnet, alice, logged, django_capture_on_commit_callbacks
):
    services.runs_delete(actor=alice, project=resnet, runs=Run.objects.filter(run_id="a1"))
    assert exists(*logged["a1"]) == [True, True, True]  # in the trash, restorable

    with django_capture_on_commit_callbacks() as pending:
        trash.runs_delete_forever(actor=alice, project=resnet, runs=trash.in_trash(resnet))
        assert exists(*logged["a1"]) == [True, True, True]  # not before the rows are gone
    assert len(pending) == 1
    pending[0]()

    assert exists(*logged["a1"]) == [False, False, False]
    assert exists(*logged["a2"]) == [True]


def test_the_expiry_purge_removes_the_bytes_too(
    resnet, alice, logged, settings, django_capture_on_commit_callbacks
):
    services.runs_delete(actor=alice, project=resnet, runs=Run.objects.filter(run_id="a1"))
    later = timezone.now() + timedelta(days=settings.TRASH_RETENTION_DAYS + 1)

    with django_capture_on_commit_callbacks(execute=True):
        assert trash.runs_purge_expired(now=later) == 1

    assert exists(*logged["a1"]) == [False, False, False]
    assert exists(*logged["a2"]) == [True]


def test_a_failed_purge_keeps_the_bytes(
    resnet, alice, logged, monkeypatch, django_capture_on_commit_callbacks
):
    services.runs_delete(actor=alice, project=resnet, runs=Run.objects.filter(run_id="a1"))

    def fail(*args, **kwargs):
        raise RuntimeError("the audit table is gone")

    monkeypatch.setattr(trash, "audit", fail)
    with (
        django_capture_on_commit_callbacks(execute=True) as pending,
        pytest.raises(RuntimeError),
    ):
        trash.runs_delete_forever(actor=alice, project=resnet, runs=trash.in_trash(resnet))

    assert pending == []
    assert Run.with_trashed.filter(run_id="a1").exists()
    assert exists(*logged["a1"]) == [True, True, True]


def test_purging_a_project_removes_its_runs_and_artifacts_bytes(
    team, resnet, alice, logged, django_capture_on_commit_callbacks
):
    a1 = Run.objects.get(run_id="a1")
    version = log_version(
        resnet, a1, "weights", {"model.bin": b"resnet only", "shared.txt": b"same bytes"}
    )
    files = dict(ArtifactFile.objects.filter(artifact=version).values_list("name", "storage_name"))
    sample = log_version(resnet, a1, "samples", {"grid.png": png()})
    sample_file = sample.files.get()
    assert thumbnail_prepare(sample_file)
    # Another project of the team logged a file with the same bytes: it keeps them.
    bert = ProjectFactory(entity=team, creator=alice, name="bert")
    log_version(bert, RunFactory(project=bert, author=alice), "weights", {"x.txt": b"same bytes"})
    assert ArtifactFile.objects.filter(storage_name=files["shared.txt"]).count() == 2
    resnet_bytes = [
        *logged["a1"],
        *logged["a2"],
        version.manifest_storage_name,
        sample.manifest_storage_name,
        files["model.bin"],
        sample_file.storage_name,
        thumbnail_name(sample_file),
    ]
    assert all(exists(*resnet_bytes))
    project_services.project_delete(project=resnet, actor=alice, confirm_name="resnet")

    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_delete_forever(project=resnet, actor=alice, confirm_name="resnet")

    assert not any(exists(*resnet_bytes))
    assert exists(files["shared.txt"]) == [True]
    assert Artifact.objects.filter(collection__project=bert).count() == 1


@pytest.fixture
def operator_client(client):
    operator = UserFactory(username="operator")
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    return client


def test_the_admins_run_delete_is_for_good_audited_and_frees_the_bytes(
    operator_client, resnet, logged, django_capture_on_commit_callbacks
):
    a1 = Run.objects.get(run_id="a1")
    url = reverse("admin:runs_run_delete", args=[a1.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Run.with_trashed.filter(run_id="a1").exists()
    assert exists(*logged["a1"]) == [False, False, False]
    assert exists(*logged["a2"]) == [True]
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.RUNS_PURGED)
    assert (event.actor.username, event.target, event.details) == (
        "operator",
        resnet.path,
        {"count": 1},
    )


def test_the_admins_bulk_run_delete_covers_runs_in_the_trash(
    operator_client, resnet, alice, logged, django_capture_on_commit_callbacks
):
    services.runs_delete(actor=alice, project=resnet, runs=Run.objects.filter(run_id="a1"))
    runs = Run.with_trashed.filter(project=resnet)
    data = {"action": "delete_selected", "post": "yes", "_selected_action": [r.pk for r in runs]}

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(reverse("admin:runs_run_changelist"), data)

    assert response.status_code == 302
    assert not Run.with_trashed.filter(project=resnet).exists()
    assert not any(exists(*logged["a1"], *logged["a2"]))


def test_the_admins_run_file_delete_frees_its_bytes(
    operator_client, logged, django_capture_on_commit_callbacks
):
    image = RunFile.objects.get(name="media/images/sample_0.png")
    url = reverse("admin:runs_runfile_delete", args=[image.pk])

    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(url, {"post": "yes"})

    assert not RunFile.objects.filter(pk=image.pk).exists()
    assert exists(*logged["a1"]) == [True, False, False]
