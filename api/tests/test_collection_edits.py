"""Changing a collection as a whole through GraphQL, as `ArtifactCollection.save()` does:
rename and describe a sequence or a registered model, retype a sequence, tag either. A refusal
changes nothing; outsiders see nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.graphql.common import node_id
from artifacts.models import ArtifactAlias, ArtifactCollection
from projects.services import project_create
from tests.factories import api_key_for

from .test_graphql import gql, ok, refused
from .test_registry import link, logged

pytestmark = pytest.mark.django_db


@pytest.fixture
def training(team, alice):
    return project_create(entity=team, name="training", creator=alice)


FRAGMENT = """
fragment Collection on ArtifactCollection {
  __typename id name description updatedAt
  type: defaultArtifactType { name }
  tags { edges { node { id name } } }
}
"""
UPDATE_SEQUENCE = (
    """
mutation UpdateArtifactSequence($input: UpdateArtifactSequenceInput!) {
  result: updateArtifactSequence(input: $input) { artifactCollection { ...Collection } }
}
"""
    + FRAGMENT
)
UPDATE_PORTFOLIO = (
    """
mutation UpdateArtifactPortfolio($input: UpdateArtifactPortfolioInput!) {
  result: updateArtifactPortfolio(input: $input) { artifactCollection { ...Collection } }
}
"""
    + FRAGMENT
)
RETYPE = (
    """
mutation UpdateArtifactSequenceType($input: MoveArtifactSequenceInput!) {
  result: moveArtifactSequence(input: $input) { artifactCollection { ...Collection } }
}
"""
    + FRAGMENT
)
ADD_TAGS = """
mutation AddArtifactCollectionTags($input: CreateArtifactCollectionTagAssignmentsInput!) {
  result: createArtifactCollectionTagAssignments(input: $input) { tags { id name } }
}
"""
DELETE_TAGS = """
mutation DeleteArtifactCollectionTags($input: DeleteArtifactCollectionTagAssignmentsInput!) {
  result: deleteArtifactCollectionTagAssignments(input: $input) { success }
}
"""
COLLECTIONS = (
    """
query ProjectArtifactCollections($entity: String!, $project: String!) {
  project(entityName: $entity, name: $project) {
    artifactCollections { edges { node { ...Collection } } }
  }
}
"""
    + FRAGMENT
)


def cid(collection):
    return node_id("ArtifactCollection", collection.pk)


def update_sequence(client, user, collection, **changes):
    variables = {"input": {"artifactSequenceID": cid(collection), **changes}}
    return gql(client, api_key_for(user), None, variables, query=UPDATE_SEQUENCE)


def retype(client, user, collection, type_name):
    variables = {
        "input": {"artifactSequenceID": cid(collection), "destinationArtifactTypeName": type_name}
    }
    return gql(client, api_key_for(user), None, variables, query=RETYPE)


def tags(client, user, collection, names, *, query=ADD_TAGS):
    variables = {
        "input": {
            "entityName": collection.project.entity.name,
            "projectName": collection.project.name,
            "artifactCollectionName": collection.name,
            "tags": [{"tagName": name} for name in names],
        }
    }
    return gql(client, api_key_for(user), None, variables, query=query)


def tag_names(collection):
    return list(collection.tags.values_list("name", flat=True))


def test_member_renames_and_describes_a_sequence_keeping_its_versions(client, training, bob):
    artifact = logged(training, "resnet")
    collection = artifact.collection

    data = ok(update_sequence(client, bob, collection, name="resnet-50", description="Backbone."))

    saved = data["result"]["artifactCollection"]
    assert (saved["__typename"], saved["name"], saved["description"]) == (
        "ArtifactSequence",
        "resnet-50",
        "Backbone.",
    )
    assert saved["updatedAt"]
    artifact.refresh_from_db()
    assert artifact.collection.name == "resnet-50"
    assert ArtifactAlias.objects.get(alias="latest").artifact == artifact


def test_description_null_clears_it_and_empty_stays_empty(client, training, bob):
    collection = logged(training).collection

    ok(update_sequence(client, bob, collection, description=""))
    collection.refresh_from_db()
    assert collection.description == ""

    ok(update_sequence(client, bob, collection, description=None))
    collection.refresh_from_db()
    assert collection.description is None


def test_leaving_out_a_field_leaves_it_alone(client, training, bob):
    collection = logged(training).collection
    ok(update_sequence(client, bob, collection, description="Kept."))

    ok(update_sequence(client, bob, collection, name="renamed"))

    collection.refresh_from_db()
    assert (collection.name, collection.description) == ("renamed", "Kept.")


@pytest.mark.parametrize("name", ["a" * 129, "my/model", "", "two words"])
def test_invalid_name_is_refused_and_nothing_changes(client, training, bob, name):
    collection = logged(training).collection

    message = refused(update_sequence(client, bob, collection, name=name, description="x"), 400)

    assert "not a valid collection name" in message
    collection.refresh_from_db()
    assert (collection.name, collection.description) == ("resnet", None)


def test_rename_onto_another_collection_is_refused(client, training, bob):
    collection = logged(training, "resnet").collection
    logged(training, "vgg")

    message = refused(update_sequence(client, bob, collection, name="vgg"), 400)

    assert "already has a collection named vgg" in message
    assert ArtifactCollection.objects.filter(name="resnet").exists()


def test_outsider_gets_not_found_and_nothing_changes(client, training, charlie):
    collection = logged(training).collection

    refused(update_sequence(client, charlie, collection, name="mine"), 404)
    refused(retype(client, charlie, collection, "dataset"), 404)
    refused(tags(client, charlie, collection, ["mine"]), 404)

    collection.refresh_from_db()
    assert (collection.name, collection.type, tag_names(collection)) == ("resnet", "model", [])


def test_a_portfolio_is_not_updated_as_a_sequence(client, training, bob):
    artifact = logged(training)
    ok(link(client, bob, artifact, name="classifier"))
    portfolio = ArtifactCollection.objects.get(name="classifier")

    refused(update_sequence(client, bob, portfolio, name="other"), 404)


def test_member_renames_a_registered_model_without_protected_aliases(client, training, bob):
    ok(link(client, bob, logged(training), name="classifier", aliases=["candidate"]))
    portfolio = ArtifactCollection.objects.get(name="classifier")
    variables = {
        "input": {"artifactPortfolioID": cid(portfolio), "name": "clf", "description": None}
    }

    data = ok(gql(client, api_key_for(bob), None, variables, query=UPDATE_PORTFOLIO))

    assert data["result"]["artifactCollection"]["__typename"] == "ArtifactPortfolio"
    assert data["result"]["artifactCollection"]["name"] == "clf"


def test_only_admins_rename_a_registered_model_holding_production(client, training, alice, bob):
    ok(link(client, alice, logged(training), name="classifier", aliases=["production"]))
    portfolio = ArtifactCollection.objects.get(name="classifier")
    variables = {"input": {"artifactPortfolioID": cid(portfolio), "name": "clf"}}

    message = refused(gql(client, api_key_for(bob), None, variables, query=UPDATE_PORTFOLIO), 403)
    assert "production" in message
    assert ArtifactCollection.objects.filter(name="classifier").exists()

    ok(gql(client, api_key_for(alice), None, variables, query=UPDATE_PORTFOLIO))
    assert ArtifactCollection.objects.filter(name="clf").exists()


def test_member_retypes_a_sequence(client, training, bob):
    collection = logged(training).collection

    data = ok(retype(client, bob, collection, "checkpoint"))

    assert data["result"]["artifactCollection"]["type"] == {"name": "checkpoint"}
    collection.refresh_from_db()
    assert collection.type == "checkpoint"


@pytest.mark.parametrize(
    ("current", "wanted", "reason"),
    [
        ("model", "wandb-history", "reserved for internal use"),
        ("wandb-run-table", "model", "internal type and cannot be changed"),
        ("model", "", "needs a type"),
        ("model", "t" * 129, "at most 128"),
    ],
)
def test_internal_and_invalid_types_are_refused(client, training, bob, current, wanted, reason):
    collection = logged(training, type_name=current).collection

    assert reason in refused(retype(client, bob, collection, wanted), 400)

    collection.refresh_from_db()
    assert collection.type == current


def test_a_sequence_linked_into_a_registered_model_keeps_its_type(client, training, bob):
    artifact = logged(training)
    ok(link(client, bob, artifact, name="classifier"))

    message = refused(retype(client, bob, artifact.collection, "checkpoint"), 400)

    assert "linked into classifier" in message
    artifact.collection.refresh_from_db()
    assert artifact.collection.type == "model"


def test_tags_are_added_once_and_removed(client, training, bob):
    collection = logged(training).collection

    data = ok(tags(client, bob, collection, ["vision", "prod candidate", "vision"]))
    assert sorted(tag["name"] for tag in data["result"]["tags"]) == ["prod candidate", "vision"]
    ok(tags(client, bob, collection, ["vision"]))
    assert tag_names(collection) == ["prod candidate", "vision"]

    ok(tags(client, bob, collection, ["vision"], query=DELETE_TAGS))
    assert tag_names(collection) == ["prod candidate"]


def test_one_invalid_tag_refuses_them_all(client, training, bob):
    collection = logged(training).collection

    message = refused(tags(client, bob, collection, ["fine", "not/fine"]), 400)

    assert "not/fine" in message
    assert tag_names(collection) == []


def test_tags_survive_a_rename(client, training, bob):
    collection = logged(training).collection
    ok(tags(client, bob, collection, ["vision"]))

    ok(update_sequence(client, bob, collection, name="renamed"))

    collection.refresh_from_db()
    assert tag_names(collection) == ["vision"]


def test_listing_collections_with_tags_costs_the_same_at_any_size(client, training, bob):
    def listed():
        variables = {"entity": "example-team", "project": "training"}
        response = gql(client, api_key_for(bob), None, variables, query=COLLECTIONS)
        return ok(response)["project"]["artifactCollections"]["edges"]

    collection = logged(training, "c0").collection
    ok(tags(client, bob, collection, ["a", "b"]))
    with CaptureQueriesContext(connection) as small:
        assert len(listed()) == 1
    for index in range(1, 8):
        other = logged(training, f"c{index}").collection
        ok(tags(client, bob, other, ["a", "b", "c"]))
    with CaptureQueriesContext(connection) as large:
        edges = listed()
    assert len(edges) == 8
    assert [t["node"]["name"] for t in edges[1]["node"]["tags"]["edges"]] == ["a", "b", "c"]
    assert len(large) == len(small)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.one_of(st.none(), st.text(max_size=140)),
    description=st.one_of(st.none(), st.text(max_size=200)),
)
def test_any_update_is_answered_without_a_server_error(client, training, bob, name, description):
    collection = logged(training, "fuzzed").collection
    response = update_sequence(client, bob, collection, name=name, description=description)
    assert response.status_code in (200, 400), response.content
    collection.delete()


COLLECTION_ALIASES = """
query ArtifactCollectionAliases($id: ID!, $cursor: String, $perPage: Int = 1000) {
  artifactCollection(id: $id) {
    __typename
    aliases(after: $cursor, first: $perPage) {
      pageInfo { endCursor hasNextPage }
      edges { node { __typename id alias } }
    }
  }
}
"""


def collection_aliases(client, user, collection, **page):
    variables = {"id": cid(collection), **page}
    data = ok(gql(client, api_key_for(user), None, variables, query=COLLECTION_ALIASES))
    return data["artifactCollection"]


def test_a_collections_aliases_are_its_own_once_each(client, training, bob):
    first = logged(training, "resnet", 0)
    ArtifactAlias.objects.create(collection=first.collection, artifact=first, alias="best")
    ok(link(client, bob, first, name="classifier", aliases=["candidate"]))
    ok(link(client, bob, logged(training, "vgg"), name="classifier", aliases=["baseline"]))
    portfolio = ArtifactCollection.objects.get(name="classifier")

    own = collection_aliases(client, bob, first.collection)
    registered = collection_aliases(client, bob, portfolio)

    assert own["__typename"] == "ArtifactSequence"
    assert [edge["node"]["alias"] for edge in own["aliases"]["edges"]] == ["best", "latest"]
    assert registered["__typename"] == "ArtifactPortfolio"
    names = [edge["node"]["alias"] for edge in registered["aliases"]["edges"]]
    assert names == ["baseline", "candidate", "latest"]


def test_a_collections_aliases_come_a_page_at_a_time(client, training, bob):
    artifact = logged(training)
    for alias in ("a", "b", "c"):
        ArtifactAlias.objects.create(collection=artifact.collection, artifact=artifact, alias=alias)

    page = collection_aliases(client, bob, artifact.collection, perPage=2)["aliases"]
    rest = collection_aliases(
        client, bob, artifact.collection, perPage=2, cursor=page["pageInfo"]["endCursor"]
    )["aliases"]

    assert [edge["node"]["alias"] for edge in page["edges"]] == ["a", "b"]
    assert page["pageInfo"]["hasNextPage"]
    assert [edge["node"]["alias"] for edge in rest["edges"]] == ["c", "latest"]
    assert not rest["pageInfo"]["hasNextPage"]


def test_an_outsider_reads_no_collection(client, training, charlie):
    assert collection_aliases(client, charlie, logged(training).collection) is None


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    type_name=st.text(max_size=140),
    names=st.lists(st.one_of(st.text(max_size=140), st.none(), st.integers()), max_size=4),
)
def test_any_retype_or_tagging_is_answered_without_a_server_error(
    client, training, bob, type_name, names
):
    collection = logged(training, "fuzzed").collection
    for response in (
        retype(client, bob, collection, type_name),
        tags(client, bob, collection, names),
        tags(client, bob, collection, names, query=DELETE_TAGS),
    ):
        assert response.status_code in (200, 400), response.content
    collection.delete()
