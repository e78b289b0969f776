"""The demo artifacts are logged through the same services as the client's, so the demo shows
real files, versions, aliases and lineage."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from artifacts.models import Artifact, ArtifactCollection


def load():
    call_command("load_demo_data", stdout=StringIO())
    call_command("load_demo_artifacts", stdout=StringIO())


@pytest.mark.django_db
def test_demo_artifacts_have_files_versions_aliases_and_lineage():
    load()

    collections = dict(ArtifactCollection.objects.values_list("name", "type").order_by("name"))
    assert collections == {"cifar10": "dataset", "resnet50": "model", "test-report": "evaluation"}
    models = Artifact.objects.filter(collection__name="resnet50").order_by("version_index")
    assert [m.state for m in models] == [Artifact.State.COMMITTED] * 4
    assert all(m.files.filter(size__isnull=False).count() == 3 for m in models)
    best = models.get(aliases__alias="best")
    assert best.used_by.count() == 1  # the evaluation run
    assert models.get(aliases__alias="latest").version_index == 3
    data = Artifact.objects.get(collection__name="cifar10", aliases__alias="clean")
    assert data.used_by.count() == 3
    assert data.size == sum(f.size for f in data.files.all()) > 0


@pytest.mark.django_db
def test_loading_again_changes_nothing():
    load()
    before = Artifact.objects.count()

    call_command("load_demo_artifacts", stdout=StringIO())

    assert Artifact.objects.count() == before == 7


@pytest.mark.django_db
def test_without_the_demo_project_it_says_what_to_do():
    with pytest.raises(CommandError, match="load_demo_data"):
        call_command("load_demo_artifacts", stdout=StringIO())
