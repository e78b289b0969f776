"""What `wandb artifact ls <entity>/<project>` and `api.artifact_types()`,
`api.artifact_collections()`, `api.artifacts()` read: a project's artifact types, the collections
of a type, a collection's committed versions (latest first), a page at a time; and the
`totalCount` of a file listing, so `len(artifact.files())` works."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from artifacts.models import Artifact, ArtifactAlias, ArtifactCollection, ArtifactFile
from projects.services import project_create
from runs.models import Run
from tests.factories import api_key_for

from .test_graphql import gql, ok

pytestmark = pytest.mark.django_db

PROJECT_TYPES = """
query ProjectArtifactTypes($entity: String!, $project: String!, $cursor: String, $perPage: Int) {
  project(name: $project, entityName: $entity) {
    artifactTypes(after: $cursor, first: $perPage) {
      edges { node { __typename id name description createdAt } }
      pageInfo { __typename endCursor hasNextPage }
    }
  }
}
"""
COLLECTION_FIELDS = """
fragment CollectionFields on ArtifactCollection {
  __typename id name description createdAt updatedAt
  project { id internalId name entity { name } }
  type: defaultArtifactType { name }
  tags { edges { node { __typename id name } } }
}
"""
TYPE_COLLECTIONS = (
    """
query TypeCollections($entity: String!, $project: String!, $type: String!, $cursor: String,
    $perPage: Int, $filters: JSONString, $order: String) {
  project(entityName: $entity, name: $project) {
    artifactType(name: $type) {
      artifactCollections(after: $cursor, first: $perPage, filters: $filters, order: $order) {
        totalCount
        pageInfo { __typename endCursor hasNextPage }
        edges { node { __typename ...CollectionFields } }
      }
    }
  }
}
"""
    + COLLECTION_FIELDS
)
VERSIONS = """
query Versions($entity: String!, $project: String!, $type: String!, $collection: String!,
    $cursor: String, $perPage: Int = 50, $includeAliases: Boolean = true) {
  project(entityName: $entity, name: $project) {
    artifactType(name: $type) {
      artifactCollection(name: $collection) {
        __typename
        artifacts(after: $cursor, first: $perPage) {
          totalCount
          pageInfo { __typename endCursor hasNextPage }
          edges {
            version
            node {
              __typename id versionIndex state size digest fileCount createdAt updatedAt
              artifactType { name }
              artifactSequence { __typename name project { name entity { name } } }
              aliases @include(if: $includeAliases) {
                __typename id alias artifactCollection { __typename name }
              }
            }
          }
        }
      }
    }
  }
}
"""
MEMBERSHIP_FILES = """
query Files($entity: String!, $project: String!, $collection: String!, $alias: String!,
    $cursor: String, $perPage: Int) {
  project(name: $project, entityName: $entity) {
    artifactCollection(name: $collection) {
      artifactMembership(aliasName: $alias) {
        files(after: $cursor, first: $perPage) {
          totalCount
          pageInfo { endCursor hasNextPage }
          edges { node { name sizeBytes } }
        }
      }
    }
  }
}
"""
PLACE = {"entity": "example-team", "project": "demo"}


@pytest.fixture
def demo(team, alice):
    return project_create(entity=team, name="demo", creator=alice)


def version(collection, index, *, state=Artifact.State.COMMITTED, files=0, aliases=()):
    artifact = Artifact.objects.create(
        collection=collection, version_index=index, digest=f"{index:032d}", state=state, size=11
    )
    for n in range(files):
        ArtifactFile.objects.create(
            artifact=artifact, name=f"f{n:02d}.txt", md5="x", size=3, storage_name=f"s/{n}"
        )
    for alias in aliases:
        ArtifactAlias.objects.update_or_create(
            collection=collection, alias=alias, defaults={"artifact": artifact}
        )
    return artifact


def collection(project, name, type_name):
    return ArtifactCollection.objects.create(project=project, name=name, type=type_name)


def test_a_projects_types_are_those_its_collections_have(client, demo, alice):
    collection(demo, "mnist", "dataset")
    collection(demo, "resnet", "model")
    collection(demo, "cifar", "dataset")

    data = ok(gql(client, api_key_for(alice), None, PLACE, query=PROJECT_TYPES))

    edges = data["project"]["artifactTypes"]["edges"]
    assert [edge["node"]["name"] for edge in edges] == ["dataset", "model"]
    assert all(edge["node"]["__typename"] == "ArtifactType" for edge in edges)
    assert edges[0]["node"]["id"] != edges[1]["node"]["id"]


def test_types_come_a_page_at_a_time(client, demo, alice):
    for n in range(5):
        collection(demo, f"c{n}", f"type{n}")
    names, cursor = [], None
    while True:
        variables = {**PLACE, "cursor": cursor, "perPage": 2}
        page = ok(gql(client, api_key_for(alice), None, variables, query=PROJECT_TYPES))
        connection_ = page["project"]["artifactTypes"]
        names += [edge["node"]["name"] for edge in connection_["edges"]]
        if not connection_["pageInfo"]["hasNextPage"]:
            break
        cursor = connection_["pageInfo"]["endCursor"]

    assert names == [f"type{n}" for n in range(5)]


def test_a_types_collections_a_page_at_a_time(client, demo, alice):
    for n in range(5):
        collection(demo, f"data{n}", "dataset")
    collection(demo, "resnet", "model")
    names, cursor = [], None
    while True:
        variables = {**PLACE, "type": "dataset", "cursor": cursor, "perPage": 2}
        data = ok(gql(client, api_key_for(alice), None, variables, query=TYPE_COLLECTIONS))
        page = data["project"]["artifactType"]["artifactCollections"]
        assert page["totalCount"] == 5
        names += [edge["node"]["name"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]

    assert names == [f"data{n}" for n in range(5)]
    node = data["project"]["artifactType"]["artifactCollections"]["edges"][0]["node"]
    assert node["type"] == {"name": "dataset"}
    assert node["project"]["entity"] == {"name": "example-team"}
    assert node["tags"] == {"edges": []}


def test_an_unknown_type_is_null(client, demo, alice):
    variables = {**PLACE, "type": "nothing"}

    data = ok(gql(client, api_key_for(alice), None, variables, query=TYPE_COLLECTIONS))

    assert data == {"project": {"artifactType": None}}


def test_filtering_collections_is_refused_clearly(client, demo, alice):
    collection(demo, "mnist", "dataset")
    variables = {**PLACE, "type": "dataset", "filters": '{"name": "mnist"}'}

    response = gql(client, api_key_for(alice), None, variables, query=TYPE_COLLECTIONS)

    assert response.status_code == 400
    assert "not supported" in response.json()["errors"][0]["message"]


def test_versions_are_committed_ones_latest_first(client, demo, alice):
    mnist = collection(demo, "mnist", "dataset")
    version(mnist, 0)
    version(mnist, 1, aliases=["best"])
    version(mnist, 2, aliases=["latest"])
    version(mnist, 3, state=Artifact.State.PENDING)
    variables = {**PLACE, "type": "dataset", "collection": "mnist", "perPage": 1}

    data = ok(gql(client, api_key_for(alice), None, variables, query=VERSIONS))

    page = data["project"]["artifactType"]["artifactCollection"]["artifacts"]
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True
    [edge] = page["edges"]
    assert edge["version"] == "v2"
    assert edge["node"]["versionIndex"] == 2
    assert edge["node"]["artifactType"] == {"name": "dataset"}
    assert [alias["alias"] for alias in edge["node"]["aliases"]] == ["latest"]
    variables["cursor"] = page["pageInfo"]["endCursor"]
    variables["perPage"] = 5
    rest = ok(gql(client, api_key_for(alice), None, variables, query=VERSIONS))
    edges = rest["project"]["artifactType"]["artifactCollection"]["artifacts"]["edges"]
    assert [edge["version"] for edge in edges] == ["v1", "v0"]


def test_a_page_of_versions_costs_the_same_queries_for_2_and_12(client, demo, alice):
    mnist = collection(demo, "mnist", "dataset")
    key = api_key_for(alice)
    variables = {**PLACE, "type": "dataset", "collection": "mnist"}

    def count():
        with CaptureQueriesContext(connection) as queries:
            ok(gql(client, key, None, variables, query=VERSIONS))
        return len(queries)

    for n in range(2):
        version(mnist, n, aliases=[f"a{n}"])
    count()
    small = count()
    for n in range(2, 12):
        version(mnist, n, aliases=[f"a{n}"])

    assert count() == small


def test_an_outsider_lists_nothing_of_a_private_team(client, demo, charlie):
    collection(demo, "mnist", "dataset")

    data = ok(gql(client, api_key_for(charlie), None, PLACE, query=PROJECT_TYPES))

    assert data == {"project": None}


def test_an_artifacts_file_listing_counts_every_page(client, demo, alice):
    mnist = collection(demo, "mnist", "dataset")
    version(mnist, 0, files=7, aliases=["latest"])
    variables = {**PLACE, "collection": "mnist", "alias": "latest", "perPage": 3}

    data = ok(gql(client, api_key_for(alice), None, variables, query=MEMBERSHIP_FILES))

    files = data["project"]["artifactCollection"]["artifactMembership"]["files"]
    assert files["totalCount"] == 7
    assert len(files["edges"]) == 3
    variables["cursor"] = files["pageInfo"]["endCursor"]
    again = ok(gql(client, api_key_for(alice), None, variables, query=MEMBERSHIP_FILES))
    assert again["project"]["artifactCollection"]["artifactMembership"]["files"]["totalCount"] == 7


RUN_FILES = """
query RunFiles($project: String!, $entity: String!, $name: String!, $fileCursor: String,
    $fileLimit: Int = 50, $fileNames: [String] = [], $pattern: String) {
  project(name: $project, entityName: $entity) {
    run(name: $name) {
      fileCount
      files(names: $fileNames, after: $fileCursor, first: $fileLimit, pattern: $pattern) {
        totalCount
        edges { node { name } cursor }
        pageInfo { endCursor hasNextPage }
      }
    }
  }
}
"""


def test_a_runs_file_listing_counts_what_matches_on_every_page(client, demo, alice):
    run = Run.objects.create(project=demo, author=alice, run_id="r1")
    for n in range(6):
        run.files.create(
            name=f"media/{n}.png", storage_name="x", size=1, uploaded_at=timezone.now()
        )
    run.files.create(name="output.log", storage_name="x", size=1, uploaded_at=timezone.now())
    run.files.create(name="not-yet.txt", storage_name="x")
    variables = {**PLACE, "name": "r1", "fileLimit": 4, "pattern": "media/%"}

    data = ok(gql(client, api_key_for(alice), None, variables, query=RUN_FILES))["project"]["run"]

    assert data["fileCount"] == 7
    assert data["files"]["totalCount"] == 6
    assert len(data["files"]["edges"]) == 4
    variables["fileCursor"] = data["files"]["pageInfo"]["endCursor"]
    rest = ok(gql(client, api_key_for(alice), None, variables, query=RUN_FILES))["project"]["run"]
    assert rest["files"]["totalCount"] == 6
    assert len(rest["files"]["edges"]) == 2
