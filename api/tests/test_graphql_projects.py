"""`wandb.Api().create_project(name, entity)` (upsertModel), `api.projects(entity)` (models,
a page at a time) and `api.project(name, entity)`: the shapes the wandb 0.28/0.31 clients select,
who may create, and that listings hold only what the viewer may see."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Project
from projects.services import project_create
from teams.models import AuditEvent
from tests.factories import api_key_for

from .test_graphql import gql, ok, refused

pytestmark = pytest.mark.django_db

PROJECT_FIELDS = """
fragment Who on User {
  id name username email admin flags entity deletedAt
  apiKeys { edges { node { id name description } } }
}
fragment ProjectFields on Project {
  __typename id name entityName createdAt isBenchmark
  user { ...Who }
}
"""
LIST_PROJECTS = (
    """
query GetProjects($entity: String, $cursor: String, $perPage: Int = 50) {
  models(entityName: $entity, after: $cursor, first: $perPage) {
    pageInfo { __typename endCursor hasNextPage }
    edges { node { ...ProjectFields } }
  }
}
"""
    + PROJECT_FIELDS
)
GET_PROJECT = (
    """
query GetProject($name: String!, $entity: String!) {
  project(name: $name, entityName: $entity) { ...ProjectFields }
}
"""
    + PROJECT_FIELDS
)
CREATE_PROJECT = """
mutation CreateProject($input: UpsertModelInput!) {
  result: upsertModel(input: $input) {
    project { ...Created }
    model { ...Created }
    inserted
  }
}
fragment Created on Project { id name entityName description access views }
"""


def create(client, key, name, entity):
    return gql(
        client, key, None, {"input": {"name": name, "entityName": entity}}, query=CREATE_PROJECT
    )


def listing(client, key, entity, per_page=50):
    """Every page of api.projects(entity), as the client walks them: (names, pages)."""
    names, cursor, pages = [], None, 0
    while True:
        variables = {"entity": entity, "cursor": cursor, "perPage": per_page}
        page = ok(gql(client, key, None, variables, query=LIST_PROJECTS))["models"]
        pages += 1
        names += [edge["node"]["name"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return names, pages
        cursor = page["pageInfo"]["endCursor"]


def test_member_creates_a_project(client, team, bob):
    data = ok(create(client, api_key_for(bob), "vision", "example-team"))["result"]

    project = Project.objects.get(entity=team, name="vision")
    assert project.created_by == bob
    assert project.visibility == Project.Visibility.TEAM
    assert data["inserted"] is True
    assert data["project"] == data["model"]
    assert data["project"]["name"] == "vision"
    assert data["project"]["entityName"] == "example-team"
    assert data["project"]["access"] == "PRIVATE"
    assert AuditEvent.objects.filter(
        entity=team, verb=AuditEvent.Verb.PROJECT_CREATED, target="vision"
    ).exists()


def test_creating_an_existing_project_answers_it_unchanged(client, team, alice, bob):
    project = project_create(entity=team, name="Vision", creator=alice, description="kept")

    data = ok(create(client, api_key_for(bob), "vision", "example-team"))["result"]

    assert data["inserted"] is False
    assert data["project"]["name"] == "Vision"
    assert data["project"]["description"] == "kept"
    assert Project.objects.filter(entity=team).count() == 1
    project.refresh_from_db()
    assert project.created_by == alice


def test_service_account_creates_a_project(client, team, sam_and_key):
    sam, key = sam_and_key

    assert ok(create(client, key, "pipelines", "example-team"))["result"]["inserted"] is True
    assert Project.objects.get(entity=team, name="pipelines").created_by == sam


def test_personal_entity_is_the_default(client, alice):
    response = gql(
        client, api_key_for(alice), None, {"input": {"name": "mine"}}, query=CREATE_PROJECT
    )

    assert ok(response)["result"]["project"]["entityName"] == "alice"
    assert Project.objects.filter(entity__name="alice", name="mine").exists()


@pytest.mark.parametrize("entity", ["example-team", "no-such-team"])
def test_outsider_cannot_create_and_learns_nothing(client, team, charlie, entity):
    message = refused(create(client, api_key_for(charlie), "sneaky", entity), 403)

    assert message == (
        f"You cannot create projects in “{entity}”: it does not exist or you are not a member "
        "of it."
    )
    assert not Project.objects.filter(name="sneaky").exists()


@pytest.mark.parametrize(
    "name, words",
    [
        ("has space", "Use up to 128 letters"),
        ("-leading-dash", "Use up to 128 letters"),
        ("x" * 129, "Use up to 128 letters"),
        ("settings", "is reserved"),
        ("", "needs a name"),
    ],
)
def test_project_names_are_checked_like_the_sites_form(client, team, bob, name, words):
    message = refused(create(client, api_key_for(bob), name, "example-team"), 400)

    assert words in message
    assert not Project.objects.filter(entity=team).exists()


def test_anonymous_cannot_create(client, team):
    assert create(client, None, "vision", "example-team").status_code == 401
    assert not Project.objects.exists()


def test_projects_are_listed_a_page_at_a_time(client, team, alice):
    for n in range(7):
        project_create(entity=team, name=f"p{n}", creator=alice)

    names, pages = listing(client, api_key_for(alice), "example-team", per_page=3)

    assert names == [f"p{n}" for n in range(7)]
    assert pages == 3


def test_a_listed_project_says_who_created_it(client, team, alice, bob):
    project_create(entity=team, name="vision", creator=bob)
    data = ok(
        gql(client, api_key_for(alice), None, {"entity": "example-team"}, query=LIST_PROJECTS)
    )

    node = data["models"]["edges"][0]["node"]
    assert node["__typename"] == "Project"
    assert (node["name"], node["entityName"], node["isBenchmark"]) == (
        "vision",
        "example-team",
        False,
    )
    assert node["user"]["username"] == "bob"
    assert node["user"]["entity"] == "example-team"  # bob's default, since he joined it
    assert node["user"]["apiKeys"] is None  # another person's keys


def test_outsiders_see_only_public_projects(client, public_team, alice, charlie):
    project_create(entity=public_team, name="open", creator=alice, visibility="public")
    project_create(entity=public_team, name="internal", creator=alice)

    assert listing(client, api_key_for(charlie), "open-team")[0] == ["open"]
    assert listing(client, api_key_for(alice), "open-team")[0] == ["internal", "open"]


def test_outsider_lists_nothing_of_a_private_team(client, team, alice, charlie):
    project_create(entity=team, name="secret", creator=alice)

    for entity in ["example-team", "no-such-team"]:
        data = ok(gql(client, api_key_for(charlie), None, {"entity": entity}, query=LIST_PROJECTS))
        assert data["models"] == {
            "pageInfo": {"__typename": "PageInfo", "endCursor": None, "hasNextPage": False},
            "edges": [],
        }


def test_listing_costs_the_same_queries_for_2_and_20_projects(client, team, alice, bob):
    key = api_key_for(alice)

    def count():
        with CaptureQueriesContext(connection) as queries:
            ok(gql(client, key, None, {"entity": "example-team"}, query=LIST_PROJECTS))
        return len(queries)

    for n in range(2):
        project_create(entity=team, name=f"a{n}", creator=alice if n % 2 else bob)
    count()  # the key's first use is recorded once
    small = count()
    for n in range(18):
        project_create(entity=team, name=f"b{n}", creator=alice if n % 2 else bob)

    assert count() == small


def test_one_project_by_name(client, team, alice, bob, charlie):
    project_create(entity=team, name="vision", creator=alice)
    variables = {"name": "vision", "entity": "example-team"}

    data = ok(gql(client, api_key_for(bob), None, variables, query=GET_PROJECT))
    assert data["project"]["name"] == "vision"
    assert data["project"]["user"]["username"] == "alice"
    assert ok(gql(client, api_key_for(charlie), None, variables, query=GET_PROJECT)) == {
        "project": None
    }
