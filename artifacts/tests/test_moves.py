"""Artifact versions follow the runs that logged them when runs move to another project."""

from base64 import b64encode

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from artifacts.models import Artifact, ArtifactAlias, ArtifactCollection
from runs import services
from runs.models import Run
from tests.factories import ProjectFactory, RunFactory, api_key_for


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def bert(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="bert")


@pytest.fixture
def runs(resnet, alice):
    return {
        run_id: RunFactory(project=resnet, author=alice, run_id=run_id)
        for run_id in ("stays", "moves")
    }


def version(project, name, index, run, aliases=()):
    collection, _ = ArtifactCollection.objects.get_or_create(
        project=project, name=name, defaults={"type": "model", "description": "weights"}
    )
    artifact = Artifact.objects.create(
        collection=collection,
        version_index=index,
        digest=f"{name}{index}",
        state=Artifact.State.COMMITTED,
        created_by_run=run,
    )
    for alias in aliases:
        ArtifactAlias.objects.update_or_create(
            collection=collection, alias=alias, defaults={"artifact": artifact}
        )
    return artifact


def where(artifact):
    """(project name, collection name, version, sorted aliases) of a version, read afresh."""
    artifact = Artifact.objects.select_related("collection__project").get(pk=artifact.pk)
    aliases = sorted(artifact.aliases.values_list("alias", flat=True))
    return artifact.collection.project.name, artifact.collection.name, artifact.version, aliases


def move(alice, resnet, bert, *run_ids):
    return services.runs_move(
        actor=alice, source=resnet, runs=Run.objects.filter(run_id__in=run_ids), target=bert
    )


def test_a_collection_logged_only_by_moved_runs_moves_whole(alice, resnet, bert, runs):
    v0 = version(resnet, "model", 0, runs["moves"])
    v1 = version(resnet, "model", 1, runs["moves"], aliases=["latest", "best"])
    collection = v0.collection

    move(alice, resnet, bert, "moves")

    collection.refresh_from_db()
    assert collection.project == bert
    assert where(v0) == ("bert", "model", "v0", [])
    assert where(v1) == ("bert", "model", "v1", ["best", "latest"])


def test_a_shared_collection_is_split_keeping_versions_aliases_and_lineage(
    alice, resnet, bert, runs
):
    v0 = version(resnet, "model", 0, runs["stays"], aliases=["production"])
    v1 = version(resnet, "model", 1, runs["moves"], aliases=["best"])
    v2 = version(resnet, "model", 2, runs["moves"], aliases=["latest"])
    v1.used_by.add(runs["stays"])  # lineage to a run that stays

    move(alice, resnet, bert, "moves")

    assert where(v0) == ("resnet", "model", "v0", ["latest", "production"])
    assert where(v1) == ("bert", "model", "v1", ["best"])
    assert where(v2) == ("bert", "model", "v2", ["latest"])
    copy = ArtifactCollection.objects.get(project=bert, name="model")
    assert (copy.type, copy.description) == ("model", "weights")
    assert list(runs["stays"].used_artifacts.all()) == [v1]
    assert Artifact.objects.get(pk=v2.pk).created_by_run == runs["moves"]


def test_versions_of_runs_that_stay_stay(alice, resnet, bert, runs):
    kept = version(resnet, "dataset", 0, runs["stays"], aliases=["latest"])

    move(alice, resnet, bert, "moves")

    assert where(kept) == ("resnet", "dataset", "v0", ["latest"])
    assert not ArtifactCollection.objects.filter(project=bert).exists()


def test_a_name_the_target_has_refuses_the_whole_move(client, alice, resnet, bert, runs):
    moved = version(resnet, "model", 0, runs["moves"], aliases=["latest"])
    version(bert, "model", 0, None)
    client.force_login(alice)

    response = client.post(
        f"/{resnet.path}/move-runs/", {"run": ["moves"], "target": "example-team/bert"}
    )

    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == (
        "example-team/bert already has artifacts named model, which the selected runs logged "
        "too. Nothing was moved."
    )
    assert Run.objects.get(run_id="moves").project == resnet
    assert where(moved) == ("resnet", "model", "v0", ["latest"])


def test_the_json_api_moves_artifacts_too(client, alice, resnet, bert, runs):
    moved = version(resnet, "model", 0, runs["moves"], aliases=["latest"])
    key = b64encode(f"api:{api_key_for(alice)}".encode()).decode()

    response = client.post(
        f"/api/v1/projects/{resnet.path}/runs/move",
        {"run_ids": ["moves"], "target": "example-team/bert"},
        content_type="application/json",
        headers={"Authorization": f"Basic {key}"},
    )

    assert response.status_code == 200, response.content
    assert where(moved) == ("bert", "model", "v0", ["latest"])


def queries_to_move(alice, resnet, bert, count) -> int:
    """Move `count` runs, each with a version in a shared collection (split) and one in a
    collection of their own (moved whole)."""
    stays = RunFactory(project=resnet, author=alice, run_id="stays")
    version(resnet, "model", 0, stays)
    for index in range(1, count + 1):
        run = RunFactory(project=resnet, author=alice, run_id=f"r{index}")
        version(resnet, "model", index, run, aliases=["latest"] if index == count else ())
        version(resnet, f"own-{index}", 0, run, aliases=["latest"])
    with CaptureQueriesContext(connection) as queries:
        move(alice, resnet, bert, *[f"r{index}" for index in range(1, count + 1)])
    assert ArtifactCollection.objects.filter(project=bert).count() == count + 1
    return len(queries)


@pytest.mark.parametrize("count", [30])
def test_moving_many_runs_costs_the_queries_of_moving_few(alice, team, count):
    few = queries_to_move(alice, *projects(team, alice, "a"), 2)
    many = queries_to_move(alice, *projects(team, alice, "b"), count)
    assert few == many


def projects(team, alice, prefix):
    return [
        ProjectFactory(entity=team, creator=alice, name=f"{prefix}-{name}")
        for name in ("source", "target")
    ]


def test_a_registered_models_aliases_stay_with_it_when_its_version_moves(
    alice, team, resnet, bert, runs
):
    from artifacts.registry import artifact_link

    version(resnet, "model", 0, runs["stays"], aliases=["latest"])
    moved = version(resnet, "model", 1, runs["moves"])
    registry = ProjectFactory(entity=team, creator=alice, name="model-registry")
    link = artifact_link(
        artifact=moved,
        project=registry,
        portfolio_name="classifier",
        aliases=["production"],
        actor=alice,
    )

    move(alice, resnet, bert, "moves")

    assert where(moved)[:3] == ("bert", "model", "v1")
    held = ArtifactAlias.objects.filter(collection=link.portfolio).values_list("alias", "artifact")
    assert sorted(held) == [("latest", moved.pk), ("production", moved.pk)]


def test_runs_whose_versions_are_registered_cannot_leave_the_team(
    alice, team, public_team, resnet, runs
):
    from artifacts.registry import artifact_link

    moved = version(resnet, "model", 0, runs["moves"], aliases=["latest"])
    registry = ProjectFactory(entity=team, creator=alice, name="model-registry")
    artifact_link(
        artifact=moved, project=registry, portfolio_name="classifier", aliases=[], actor=alice
    )
    elsewhere = ProjectFactory(entity=public_team, creator=alice, name="elsewhere")

    with pytest.raises(
        services.RunsError, match=r"registered models of example-team \(classifier:v0\)"
    ):
        move(alice, resnet, elsewhere, "moves")

    assert where(moved)[:2] == ("resnet", "model")
    assert Run.objects.get(run_id="moves").project == resnet


def test_within_the_team_registered_versions_move_freely(alice, team, resnet, bert, runs):
    from artifacts.registry import artifact_link

    moved = version(resnet, "model", 0, runs["moves"], aliases=["latest"])
    registry = ProjectFactory(entity=team, creator=alice, name="model-registry")
    artifact_link(
        artifact=moved, project=registry, portfolio_name="classifier", aliases=[], actor=alice
    )

    move(alice, resnet, bert, "moves")

    assert where(moved)[:2] == ("bert", "model")
