"""The team model registry through GraphQL, as the wandb client uses it: `linkArtifact` puts a
logged version into a registered model (a portfolio, `<team>/model-registry/<name>`), which
numbers its links itself; `unlinkArtifact` removes a link and never the version; protected
aliases move only by admins and every alias move is recorded."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.graphql.common import node_id
from artifacts.models import (
    AliasMove,
    Artifact,
    ArtifactAlias,
    ArtifactCollection,
    ArtifactLink,
    ProtectedAlias,
)
from artifacts.services import ArtifactError, artifact_create
from projects.models import Project
from projects.services import project_create
from tests.factories import TeamFactory, api_key_for

from .test_graphql import gql, ok, refused

pytestmark = pytest.mark.django_db

LINK = """
mutation LinkArtifact($input: LinkArtifactInput!) {
  result: linkArtifact(input: $input) {
    versionIndex
    artifactMembership {
      __typename id versionIndex aliases { alias }
      artifactCollection { __typename name project { name entity { name } } }
      artifact { id versionIndex artifactSequence { name } }
    }
  }
}
"""
UNLINK = """
mutation UnlinkArtifact($input: UnlinkArtifactInput!) {
  result: unlinkArtifact(input: $input) { success }
}
"""
DELETE_PORTFOLIO = """
mutation DeleteArtifactPortfolio($id: ID!) {
  result: deleteArtifactPortfolio(input: {artifactPortfolioID: $id}) {
    artifactCollection { __typename state }
  }
}
"""
MEMBERSHIP = """
query ArtifactMembershipByName($entity: String!, $project: String!, $name: String!) {
  project(name: $project, entityName: $entity) {
    artifactCollectionMembership(name: $name) {
      versionIndex aliases { alias }
      artifactCollection { __typename id name }
      artifact { id versionIndex artifactSequence { name project { name } } }
    }
    artifact(name: $name) { id }
  }
}
"""
MEMBERSHIPS = """
query FetchLinkedArtifacts($artifactID: ID!) {
  artifact(id: $artifactID) {
    artifactMemberships {
      edges { node {
        versionIndex aliases { alias }
        artifactCollection { __typename name project { name entity { name } } }
      } }
    }
  }
}
"""
VERSIONS = """
query Versions($entity: String!, $project: String!, $type: String!, $name: String!) {
  project(entityName: $entity, name: $project) {
    artifactType(name: $type) {
      artifactCollection(name: $name) {
        __typename id
        artifacts(first: 50) {
          totalCount
          edges {
            version
            node {
              id versionIndex
              aliases { alias artifactCollection { __typename name } }
            }
          }
        }
      }
    }
  }
}
"""
REGISTRY = {"entity": "example-team", "project": "model-registry"}


@pytest.fixture
def training(team, alice):
    return project_create(entity=team, name="training", creator=alice)


def logged(project, name="resnet", index=0, type_name="model"):
    collection, _ = ArtifactCollection.objects.get_or_create(
        project=project, name=name, defaults={"type": type_name}
    )
    artifact = Artifact.objects.create(
        collection=collection,
        version_index=index,
        digest=f"{name}{index}",
        state=Artifact.State.COMMITTED,
    )
    ArtifactAlias.objects.update_or_create(
        collection=collection, alias="latest", defaults={"artifact": artifact}
    )
    return artifact


def gid(artifact):
    return node_id("Artifact", artifact.pk)


def link(client, user, artifact, name="classifier", aliases=(), **place):
    variables = {
        "input": {
            "artifactID": gid(artifact),
            "artifactPortfolioName": name,
            "entityName": place.get("entity", "example-team"),
            "projectName": place.get("project", "model-registry"),
            "aliases": [{"alias": alias, "artifactCollectionName": name} for alias in aliases],
        }
    }
    return gql(client, api_key_for(user), None, variables, query=LINK)


def test_member_links_a_version_into_a_registered_model_created_on_first_link(
    client, training, bob
):
    artifact = logged(training)

    result = ok(link(client, bob, artifact))["result"]

    assert result["versionIndex"] == 0
    membership = result["artifactMembership"]
    assert membership["artifactCollection"]["__typename"] == "ArtifactPortfolio"
    assert membership["artifactCollection"]["project"]["name"] == "model-registry"
    assert membership["artifact"]["artifactSequence"]["name"] == "resnet"
    assert [alias["alias"] for alias in membership["aliases"]] == ["latest"]
    registered = ArtifactCollection.objects.get(name="classifier")
    assert registered.kind == ArtifactCollection.Kind.PORTFOLIO
    assert Project.objects.filter(entity=training.entity, name="model-registry").exists()
    saved = ArtifactLink.objects.get(portfolio=registered)
    assert (saved.artifact, saved.version_index, saved.linked_by) == (artifact, 0, bob)
    move = AliasMove.objects.get(portfolio=registered)
    assert (move.alias, move.from_version_index, move.to_version_index, move.moved_by) == (
        "latest",
        None,
        0,
        bob,
    )


def test_links_are_numbered_within_the_registered_model(client, training, bob):
    v3 = logged(training, index=3)
    v4 = logged(training, index=4)
    ok(link(client, bob, v3))

    again = ok(link(client, bob, v3))["result"]
    second = ok(link(client, bob, v4))["result"]

    assert again["versionIndex"] == 0  # the same version links once
    assert second["versionIndex"] == 1
    data = ok(
        gql(client, api_key_for(bob), None, {**REGISTRY, "name": "classifier:v0"}, query=MEMBERSHIP)
    )
    membership = data["project"]["artifactCollectionMembership"]
    assert membership["versionIndex"] == 0
    assert membership["artifact"]["versionIndex"] == 3
    assert data["project"]["artifact"]["id"] == gid(v3)
    latest = ok(
        gql(
            client,
            api_key_for(bob),
            None,
            {**REGISTRY, "name": "classifier:latest"},
            query=MEMBERSHIP,
        )
    )["project"]["artifactCollectionMembership"]
    assert latest["versionIndex"] == 1


def test_a_version_can_be_in_several_registered_models(client, training, bob):
    artifact = logged(training)
    ok(link(client, bob, artifact, "classifier"))
    ok(link(client, bob, artifact, "detector", aliases=["candidate"]))

    data = ok(gql(client, api_key_for(bob), None, {"artifactID": gid(artifact)}, query=MEMBERSHIPS))

    nodes = [edge["node"] for edge in data["artifact"]["artifactMemberships"]["edges"]]
    assert [
        (node["artifactCollection"]["__typename"], node["artifactCollection"]["name"])
        for node in nodes
    ] == [
        ("ArtifactSequence", "resnet"),
        ("ArtifactPortfolio", "classifier"),
        ("ArtifactPortfolio", "detector"),
    ]
    # Each collection shows its own aliases only.
    assert [alias["alias"] for alias in nodes[0]["aliases"]] == ["latest"]
    assert sorted(alias["alias"] for alias in nodes[2]["aliases"]) == ["candidate", "latest"]


def test_registered_model_lists_its_links_as_versions(client, training, bob):
    for index in range(3):
        ok(link(client, bob, logged(training, index=index + 5)))
    variables = {**REGISTRY, "type": "model", "name": "classifier"}

    data = ok(gql(client, api_key_for(bob), None, variables, query=VERSIONS))

    collection = data["project"]["artifactType"]["artifactCollection"]
    assert collection["__typename"] == "ArtifactPortfolio"
    versions = collection["artifacts"]
    assert versions["totalCount"] == 3
    assert [edge["version"] for edge in versions["edges"]] == ["v2", "v1", "v0"]
    assert [edge["node"]["versionIndex"] for edge in versions["edges"]] == [7, 6, 5]


def test_listing_a_registered_models_versions_costs_the_same_at_any_size(client, training, bob):
    variables = {**REGISTRY, "type": "model", "name": "classifier"}
    counts = []
    for start, size in ((0, 2), (2, 12)):
        for index in range(start, size):
            ok(link(client, bob, logged(training, index=index)))
        with CaptureQueriesContext(connection) as queries:
            data = ok(gql(client, api_key_for(bob), None, variables, query=VERSIONS))
        versions = data["project"]["artifactType"]["artifactCollection"]["artifacts"]
        assert versions["totalCount"] == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_aliases_of_a_registered_model_do_not_name_the_logged_version(client, training, alice):
    artifact = logged(training)
    ok(link(client, alice, artifact, aliases=["production"]))
    variables = {"entity": "example-team", "project": "training", "name": "resnet:production"}

    data = ok(gql(client, api_key_for(alice), None, variables, query=MEMBERSHIP))

    assert data["project"]["artifactCollectionMembership"] is None


def test_member_cannot_move_production(client, training, bob):
    artifact = logged(training)

    message = refused(link(client, bob, artifact, aliases=["production"]), 403)

    assert "production" in message
    assert not ArtifactCollection.objects.filter(name="classifier").exists()
    assert not AliasMove.objects.exists()


def test_member_cannot_move_an_alias_the_team_protects(client, training, bob):
    ProtectedAlias.objects.create(entity=training.entity, alias="champion")
    artifact = logged(training)
    ok(link(client, bob, artifact))

    message = refused(link(client, bob, artifact, aliases=["champion"]), 403)

    assert "champion" in message
    assert not ArtifactAlias.objects.filter(alias="champion").exists()


def test_admin_moves_production_and_each_move_is_recorded(client, training, alice):
    first, second = logged(training, index=0), logged(training, index=1)
    ok(link(client, alice, first, aliases=["production"]))

    ok(link(client, alice, second, aliases=["production"]))

    registered = ArtifactCollection.objects.get(name="classifier")
    assert ArtifactAlias.objects.get(collection=registered, alias="production").artifact == second
    moves = [
        (move.from_version_index, move.to_version_index, move.moved_by)
        for move in AliasMove.objects.filter(portfolio=registered, alias="production").order_by(
            "pk"
        )
    ]
    assert moves == [(None, 0, alice), (0, 1, alice)]


def test_outsider_cannot_link_or_see_a_registered_model(client, training, alice, charlie):
    artifact = logged(training)
    ok(link(client, alice, artifact))

    refused(link(client, charlie, artifact), 404)
    data = ok(
        gql(
            client,
            api_key_for(charlie),
            None,
            {**REGISTRY, "name": "classifier:v0"},
            query=MEMBERSHIP,
        )
    )
    assert data["project"] is None


def test_a_version_is_linked_only_within_its_entity(client, training, alice):
    other = TeamFactory(name="other-team", creator=alice)
    artifact = logged(training)

    message = refused(link(client, alice, artifact, entity=other.name), 400)

    assert "entity" in message
    assert not ArtifactLink.objects.exists()


def test_unlink_removes_the_link_and_keeps_the_version(client, training, bob):
    first, second = logged(training, index=0), logged(training, index=1)
    ok(link(client, bob, first))
    ok(link(client, bob, second))
    registered = ArtifactCollection.objects.get(name="classifier")
    variables = {
        "input": {
            "artifactID": gid(second),
            "artifactPortfolioID": _collection_id(registered),
        }
    }

    assert ok(gql(client, api_key_for(bob), None, variables, query=UNLINK))["result"]["success"]

    assert not ArtifactLink.objects.filter(artifact=second).exists()
    assert Artifact.objects.filter(pk=second.pk).exists()
    # latest falls back to the newest link left
    assert ArtifactAlias.objects.get(collection=registered, alias="latest").artifact == first
    assert (
        ArtifactAlias.objects.get(collection=second.collection, alias="latest").artifact == second
    )


def test_member_cannot_unlink_the_production_version(client, training, alice, bob):
    artifact = logged(training)
    ok(link(client, alice, artifact, aliases=["production"]))
    registered = ArtifactCollection.objects.get(name="classifier")
    variables = {
        "input": {"artifactID": gid(artifact), "artifactPortfolioID": _collection_id(registered)}
    }

    refused(gql(client, api_key_for(bob), None, variables, query=UNLINK), 403)

    assert ArtifactLink.objects.filter(portfolio=registered).count() == 1
    assert ok(gql(client, api_key_for(alice), None, variables, query=UNLINK))["result"]["success"]
    assert not ArtifactLink.objects.exists()


def test_deleting_a_registered_model_keeps_the_versions(client, training, bob):
    artifact = logged(training)
    ok(link(client, bob, artifact))
    registered = ArtifactCollection.objects.get(name="classifier")

    data = ok(
        gql(
            client,
            api_key_for(bob),
            None,
            {"id": _collection_id(registered)},
            query=DELETE_PORTFOLIO,
        )
    )

    assert data["result"]["artifactCollection"]["state"] == "DELETED"
    assert not ArtifactCollection.objects.filter(pk=registered.pk).exists()
    assert Artifact.objects.filter(pk=artifact.pk).exists()


def test_versions_cannot_be_logged_into_a_registered_model(client, training, bob):
    ok(link(client, bob, logged(training)))
    registry_project = Project.objects.get(name="model-registry")

    with pytest.raises(ArtifactError, match="registered model"):
        artifact_create(
            project=registry_project, run=None, type_name="model", name="classifier", digest="d"
        )


def _collection_id(collection):
    return node_id("ArtifactCollection", collection.pk)


DELETE_SEQUENCE = """
mutation DeleteArtifactSequence($id: ID!) {
  result: deleteArtifactSequence(input: {artifactSequenceID: $id}) {
    artifactCollection { __typename state }
  }
}
"""


def test_admin_deletes_a_sequence_and_its_links_go_with_it(client, training, alice, bob):
    artifact = logged(training)
    ok(link(client, bob, artifact, aliases=["candidate"]))
    variables = {"id": _collection_id(artifact.collection)}

    refused(gql(client, api_key_for(bob), None, variables, query=DELETE_SEQUENCE), 403)
    assert Artifact.objects.filter(pk=artifact.pk).exists()

    data = ok(gql(client, api_key_for(alice), None, variables, query=DELETE_SEQUENCE))

    assert data["result"]["artifactCollection"] == {
        "__typename": "ArtifactSequence",
        "state": "DELETED",
    }
    assert not Artifact.objects.filter(pk=artifact.pk).exists()
    assert not ArtifactLink.objects.exists()
    assert not ArtifactAlias.objects.filter(alias="candidate").exists()
    # The registered model stays, empty.
    assert ArtifactCollection.objects.filter(name="classifier").exists()
