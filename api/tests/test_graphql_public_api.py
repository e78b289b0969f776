"""What `wandb.Api()` asks about people and teams, and `run.delete()`: the viewer with its keys'
public parts, a team with its members, creating a team, searching users (site admins) and
deleting a run. Operation texts as the wandb 0.31.0 client sends them (wandb/apis/_generated
and wandb/apis/public/runs.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiKey
from artifacts.models import Artifact, ArtifactCollection
from projects.services import project_create
from runs import trash
from runs.models import Run
from teams import services as team_services
from teams.models import AuditEvent, Entity, Membership, Role
from tests.factories import UserFactory, add_member, api_key_for

from . import test_graphql
from .test_graphql import gql, node_id, ok, refused

pytestmark = pytest.mark.django_db

# The fixtures of the GraphQL tests: example-team/demo, its runs, the service account's key.
demo, make_run, sam_key = test_graphql.demo, test_graphql.make_run, test_graphql.sam_key

API_KEY_FRAGMENT = "fragment ApiKeyFragment on ApiKey {\n  id\n  name\n  description\n}\n"
USER_FRAGMENT = (
    "fragment UserFragment on User {\n  id\n  name\n  username\n  email\n  admin\n  flags\n"
    "  entity\n  deletedAt\n  apiKeys {\n    edges {\n      node {\n        ...ApiKeyFragment\n"
    "      }\n    }\n  }\n  teams {\n    edges {\n      node {\n        name\n      }\n    }\n"
    "  }\n}\n"
)
GET_VIEWER = (
    "\nquery GetViewer {\n  viewer {\n    ...UserFragment\n  }\n}\n\n"
    + API_KEY_FRAGMENT
    + "\n"
    + USER_FRAGMENT
)
SEARCH_USERS = (
    "\nquery SearchUsers($query: String) {\n  users(query: $query) {\n    edges {\n      node {\n"
    "        ...UserFragment\n      }\n    }\n  }\n}\n\n" + API_KEY_FRAGMENT + "\n" + USER_FRAGMENT
)
GET_TEAM_ENTITY = (
    "\nquery GetTeamEntity($name: String!) {\n  entity(name: $name) {\n    id\n    name\n"
    "    available\n    photoUrl\n    readOnly\n    readOnlyAdmin\n    isTeam\n    entityType\n"
    "    privateOnly\n    storageBytes\n    codeSavingEnabled\n    defaultAccess\n    isPaid\n"
    "    members {\n      id\n      admin\n      pending\n      email\n      username\n      name\n"
    "      photoUrl\n      accountType\n      apiKey\n    }\n  }\n}\n"
)
CREATE_TEAM = (
    "\nmutation CreateTeam($teamName: String!, $teamAdminUserName: String) {\n"
    "  result: createTeam(\n    input: {teamName: $teamName, teamAdminUserName: "
    "$teamAdminUserName}\n  ) {\n    entity {\n      id\n      name\n      available\n"
    "      photoUrl\n      limits\n    }\n  }\n}\n"
)
DELETE_RUN = (
    "\n            mutation DeleteRun(\n                $id: ID!,\n                \n"
    "            ) {\n                deleteRun(input: {\n                    id: $id,\n"
    "                    \n                }) {\n                    clientMutationId\n"
    "                }\n            }\n        "
)
DELETE_RUN_AND_ARTIFACTS = (
    "\n            mutation DeleteRun(\n                $id: ID!,\n"
    "                $deleteArtifacts: Boolean\n            ) {\n"
    "                deleteRun(input: {\n                    id: $id,\n"
    "                    deleteArtifacts: $deleteArtifacts\n                }) {\n"
    "                    clientMutationId\n                }\n            }\n        "
)


def ask(client, key, query, variables=None):
    return gql(client, key, None, variables or {}, query=query)


# The viewer


def test_viewer_lists_its_keys_public_parts_and_never_a_secret(client, team, alice):
    raw = api_key_for(alice, label="laptop")
    api_key = ApiKey.objects.get(user=alice)

    viewer = ok(ask(client, raw, GET_VIEWER))["viewer"]

    assert viewer["apiKeys"] == {
        "edges": [
            {
                "node": {
                    "id": node_id("ApiKey", api_key.pk),
                    "name": api_key.prefix,
                    "description": "laptop",
                }
            }
        ]
    }
    assert raw.startswith(api_key.prefix) and api_key.prefix != raw
    assert raw not in str(viewer) and api_key.key_hash not in str(viewer)
    assert (viewer["username"], viewer["admin"], viewer["deletedAt"]) == ("alice", False, None)
    # As W&B counts them: the personal entity first, then the teams.
    assert viewer["teams"]["edges"] == [
        {"node": {"name": "alice"}},
        {"node": {"name": "example-team"}},
    ]


def test_a_user_without_teams_has_only_their_personal_entity(client, charlie, charlie_key):
    viewer = ok(ask(client, charlie_key, GET_VIEWER))["viewer"]

    assert viewer["teams"]["edges"] == [{"node": {"name": "charlie"}}]


# Searching users: site admins only


def test_a_site_admin_finds_users_by_username_or_email(client, alice, bob):
    root = UserFactory(username="root")
    root.is_superuser = True
    root.save(update_fields=["is_superuser"])
    api_key_for(bob, label="bob's key")

    found = ok(ask(client, api_key_for(root), SEARCH_USERS, {"query": "bob@example"}))

    [edge] = found["users"]["edges"]
    assert (edge["node"]["username"], edge["node"]["email"]) == ("bob", "bob@example.com")
    # A site admin sees the public parts of other people's keys (to revoke them).
    assert [key["node"]["description"] for key in edge["node"]["apiKeys"]["edges"]] == ["bob's key"]
    assert ok(ask(client, api_key_for(root), SEARCH_USERS, {"query": "nobody"})) == {
        "users": {"edges": []}
    }


def test_a_team_admin_cannot_search_users(client, team, alice_key):
    response = ask(client, alice_key, SEARCH_USERS, {"query": "bob"})

    assert "site admins" in refused(response, 403)


# A team and its members


def test_a_member_sees_the_team_with_its_members_and_their_emails(client, team, sam, bob_key):
    entity = ok(ask(client, bob_key, GET_TEAM_ENTITY, {"name": "example-team"}))["entity"]

    assert entity["name"] == "example-team"
    assert (entity["isTeam"], entity["entityType"], entity["available"]) == (True, "TEAM", False)
    assert (entity["privateOnly"], entity["defaultAccess"]) == (True, "PRIVATE")
    assert (entity["readOnly"], entity["storageBytes"]) == (False, 0)
    members = [
        (m["username"], m["email"], m["admin"], m["accountType"], m["pending"], m["apiKey"])
        for m in entity["members"]
    ]
    assert members == [
        ("alice", "alice@example.com", True, "USER", False, None),
        ("bob", "bob@example.com", False, "USER", False, None),
        (sam.username, None, False, "SERVICE", False, None),
    ]


@pytest.mark.parametrize("is_private", [True, False])
def test_an_outsider_gets_no_team_nor_its_members(client, team, charlie_key, is_private):
    # A public team shows its public projects, not who belongs to it.
    team_services.entity_set_privacy(entity=team, is_private=is_private)

    assert ok(ask(client, charlie_key, GET_TEAM_ENTITY, {"name": "example-team"})) == {
        "entity": None
    }


def test_a_personal_entity_has_its_owner_as_only_member(client, charlie, charlie_key):
    entity = ok(ask(client, charlie_key, GET_TEAM_ENTITY, {"name": "charlie"}))["entity"]

    assert (entity["isTeam"], entity["entityType"]) == (False, "USER")
    assert [(m["name"], m["accountType"], m["admin"]) for m in entity["members"]] == [
        ("charlie", "USER", True)
    ]


# Creating a team


def test_creating_a_team_makes_the_viewer_its_admin(client, charlie, charlie_key):
    data = ok(ask(client, charlie_key, CREATE_TEAM, {"teamName": "vision"}))

    team = Entity.objects.get(name="vision", kind=Entity.Kind.TEAM)
    assert data["result"]["entity"] == {
        "id": node_id("Entity", team.pk),
        "name": "vision",
        "available": False,
        "photoUrl": None,
        "limits": "{}",
    }
    assert Membership.objects.get(entity=team, user=charlie).role == Role.ADMIN
    assert AuditEvent.objects.filter(entity=team, verb=AuditEvent.Verb.TEAM_CREATED).exists()


def test_a_taken_name_is_refused_and_nothing_changes(client, team, charlie, charlie_key):
    response = ask(client, charlie_key, CREATE_TEAM, {"teamName": "example-team"})

    assert refused(response, 400)
    assert not Membership.objects.filter(entity=team, user=charlie).exists()


def test_a_team_cannot_be_created_for_someone_else(client, bob, charlie_key):
    variables = {"teamName": "vision", "teamAdminUserName": "bob"}

    assert refused(ask(client, charlie_key, CREATE_TEAM, variables), 403)
    assert not Entity.objects.filter(name="vision").exists()


def test_a_service_account_cannot_create_a_team(client, sam_key):
    assert refused(ask(client, sam_key, CREATE_TEAM, {"teamName": "vision"}), 403)
    assert not Entity.objects.filter(name="vision").exists()


# Deleting a run


def delete(client, key, run, **variables):
    query = DELETE_RUN_AND_ARTIFACTS if "deleteArtifacts" in variables else DELETE_RUN
    return ask(client, key, query, {"id": node_id("Run", run.pk), **variables})


def test_the_author_deletes_their_run_and_it_is_audited(client, make_run, bob, bob_key):
    run = make_run(bob)

    assert ok(delete(client, bob_key, run)) == {"deleteRun": {"clientMutationId": None}}

    assert not Run.objects.filter(pk=run.pk).exists()
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.RUNS_DELETED)
    assert (event.actor, event.target) == (bob, "example-team/demo")


def test_deleting_a_deleted_run_again_is_done(client, make_run, bob, bob_key):
    run = make_run(bob)
    ok(delete(client, bob_key, run))

    assert ok(delete(client, bob_key, run, deleteArtifacts=True))
    assert AuditEvent.objects.filter(verb=AuditEvent.Verb.RUNS_DELETED).count() == 1


def test_an_admin_deletes_a_members_run(client, make_run, bob, alice_key):
    run = make_run(bob)

    ok(delete(client, alice_key, run))

    assert not Run.objects.filter(pk=run.pk).exists()


def test_a_member_cannot_delete_someone_elses_run(client, make_run, alice, bob_key):
    run = make_run(alice)

    assert "runs you logged" in refused(delete(client, bob_key, run), 403)
    assert Run.objects.filter(pk=run.pk).exists()


def test_an_outsider_gets_not_found_and_nothing_is_deleted(client, make_run, alice, charlie_key):
    run = make_run(alice)

    assert refused(delete(client, charlie_key, run), 404) == "Run not found."
    assert Run.objects.filter(pk=run.pk).exists()
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.RUNS_DELETED).exists()


def test_a_service_account_cannot_delete_runs(client, make_run, alice, sam_key):
    run = make_run(alice)

    assert refused(delete(client, sam_key, run), 403)
    assert Run.objects.filter(pk=run.pk).exists()


def test_deleting_a_runs_artifacts_with_it_is_refused_clearly(client, make_run, demo, bob, bob_key):
    run = make_run(bob)
    collection = ArtifactCollection.objects.create(project=demo, name="model", type="model")
    Artifact.objects.create(collection=collection, version_index=0, digest="d", created_by_run=run)

    message = refused(delete(client, bob_key, run, deleteArtifacts=True), 400)

    assert "artifacts" in message
    assert Run.objects.filter(pk=run.pk).exists()
    # Without them, the run goes to the trash and its versions stay; purged, it leaves them.
    ok(delete(client, bob_key, run, deleteArtifacts=False))
    assert not Run.objects.filter(pk=run.pk).exists()
    trash.runs_purge_expired(now=timezone.now() + timedelta(days=365))
    assert Artifact.objects.get(collection=collection).created_by_run is None


def test_a_malformed_run_id_is_not_found(client, bob_key):
    response = ask(client, bob_key, DELETE_RUN, {"id": node_id("Project", 1)})

    assert refused(response, 404)


RUN_AUTHOR = """
query RunAuthor($entity: String!, $project: String!, $name: String!) {
  project(name: $project, entityName: $entity) { run(name: $name) { user { username email } } }
}
"""


def test_an_authors_address_reaches_teammates_only(
    client, public_team, alice, bob, alice_key, bob_key, charlie_key
):
    project = project_create(entity=public_team, name="open", creator=alice, visibility="public")
    Run.objects.create(project=project, author=alice, run_id="shown")
    variables = {"entity": "open-team", "project": "open", "name": "shown"}

    def author_seen_by(key):
        return ok(gql(client, key, None, variables, query=RUN_AUTHOR))["project"]["run"]["user"]

    assert author_seen_by(alice_key) == {"username": "alice", "email": "alice@example.com"}
    assert author_seen_by(charlie_key) == {"username": "alice", "email": None}
    assert author_seen_by(bob_key)["email"] is None  # not in open-team
    add_member(public_team, bob)
    assert author_seen_by(bob_key)["email"] == "alice@example.com"
