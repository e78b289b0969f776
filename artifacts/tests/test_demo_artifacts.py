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

    sequences = ArtifactCollection.objects.filter(kind="sequence")
    collections = dict(sequences.values_list("name", "type").order_by("name"))
    assert collections == {"cifar10": "dataset", "resnet50": "model", "test-report": "evaluation"}
    models = Artifact.objects.filter(collection__name="resnet50").order_by("version_index")
    assert [m.state for m in models] == [Artifact.State.COMMITTED] * 4
    assert all(m.files.filter(size__isnull=False).count() == 3 for m in models)
    best = models.get(aliases__alias="best")
    assert best.used_by.count() == 1  # the evaluation run
    assert (
        models.get(aliases__alias="latest", aliases__collection__name="resnet50").version_index == 3
    )
    data = Artifact.objects.get(collection__name="cifar10", aliases__alias="clean")
    assert data.used_by.count() == 3
    assert data.size == sum(f.size for f in data.files.all()) > 0


@pytest.mark.django_db
def test_the_demo_registry_has_a_model_in_production_and_one_in_staging():
    load()

    model = ArtifactCollection.objects.get(kind="portfolio", name="cifar-classifier")
    assert (model.project.entity.name, model.project.name) == ("example-team", "model-registry")
    held = dict(model.aliases.values_list("alias", "artifact__version_index"))
    assert held == {"production": 1, "staging": 2, "latest": 2}
    assert sorted(model.alias_moves.values_list("alias", "moved_by__username")) == [
        ("latest", "alice"),
        ("latest", "alice"),
        ("production", "alice"),
        ("staging", "alice"),
    ]


@pytest.mark.django_db
def test_loading_again_changes_nothing():
    load()
    before = Artifact.objects.count()

    call_command("load_demo_artifacts", stdout=StringIO())

    assert Artifact.objects.count() == before == 7
    assert ArtifactCollection.objects.filter(kind="portfolio").count() == 1


@pytest.mark.django_db
def test_without_the_demo_project_it_says_what_to_do():
    with pytest.raises(CommandError, match="load_demo_data"):
        call_command("load_demo_artifacts", stdout=StringIO())
