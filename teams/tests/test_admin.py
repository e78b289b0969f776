"""The Django admin: every registered model's pages render for a superuser, and membership
changes and deletions go through the services, so the admin cannot leave a team without a
human admin."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.models import ApiKey
from alerts.models import AlertEvent, AlertRule, Webhook
from alerts.webhooks import webhook_create
from artifacts.models import (
    AliasMove,
    Artifact,
    ArtifactCollection,
    ArtifactLink,
    ProtectedAlias,
)
from jobs.models import PeriodicJob
from projects.models import Project
from projects.services import project_create, project_delete
from reports.models import Report
from reports.services import block_add, report_create, report_publish
from runs.models import Alert, Run, RunFile, SavedView
from sweeps.models import Sweep, SweepAgent, SweepRun
from sweeps.services import agent_create, heartbeat, sweep_create
from teams import services
from teams.models import (
    AuditEvent,
    Entity,
    EntityGroupObjectPermission,
    EntityUserObjectPermission,
    Invitation,
    Membership,
    Role,
)
from tests.factories import UserFactory

User = get_user_model()

pytestmark = pytest.mark.django_db


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def operator(db):
    """A superuser who belongs to no team."""
    user = UserFactory(username="operator")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def invitation(team, alice):
    invitation, _ = services.invitation_create(
        entity=team, inviter=alice, email="carol@example.com", role=Role.MEMBER
    )
    return invitation


@pytest.fixture
def cast(team, alice, sam, invitation, charlie):
    """Rows for every admin page to list."""
    Group.objects.create(name="auditors")
    PeriodicJob.objects.create(name="mark_crashed_runs", next_run_at=timezone.now())
    DBTaskResult.objects.create(
        task_path="teamsite.lib.emails.send_email",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=get_date_max(),  # "whenever": the form the immediate backend can read
    )
    ApiKey.create_for(user=alice, label="laptop")
    project = project_create(entity=team, name="resnet", creator=alice)
    run = Run.objects.create(project=project, run_id="abc123", name="brisk-river-1", author=alice)
    Alert.objects.create(run=run, title="Loss diverged", level=Alert.Level.ERROR)
    rule = AlertRule.objects.create(
        project=project, name="Loss too high", kind="threshold", metric="loss", threshold=1
    )
    AlertEvent.objects.create(
        project=project, rule=rule, rule_name=rule.name, run=run, value=2.0, message="loss is 2"
    )
    webhook_create(
        entity=team,
        name="ops-chat",
        url="https://chat.example.com/hooks/token",
        format=Webhook.Format.SLACK,
        client_alerts=True,
        actor=alice,
    )
    RunFile.objects.create(run=run, name="requirements.txt", size=10, uploaded_at=run.created_at)
    collection = ArtifactCollection.objects.create(project=project, name="mymodel", type="model")
    artifact = Artifact.objects.create(
        collection=collection, version_index=0, digest="d1", state=Artifact.State.COMMITTED
    )
    portfolio = ArtifactCollection.objects.create(
        project=project, name="classifier", type="model", kind=ArtifactCollection.Kind.PORTFOLIO
    )
    ArtifactLink.objects.create(
        portfolio=portfolio, artifact=artifact, version_index=0, linked_by=alice
    )
    AliasMove.objects.create(
        entity=team,
        portfolio=portfolio,
        portfolio_name=portfolio.name,
        alias="production",
        to_version_index=0,
        moved_by=alice,
        moved_by_name=alice.username,
    )
    ProtectedAlias.objects.create(entity=team, alias="champion")
    SavedView.objects.create(project=project, owner=alice, name="best resnets", shared=True)
    report = report_create(project=project, title="Weekly findings", actor=alice)
    block_add(report=report, kind="text", config={"markdown": "Loss fell."})
    report_publish(report=report, actor=alice, note="first")
    sweep = sweep_create(
        actor=alice,
        project=project,
        config_yaml="method: grid\nparameters:\n  lr:\n    values: [0.1, 0.01]\n",
    )
    agent = agent_create(actor=alice, sweep=sweep, host="gpu-box-7")
    heartbeat(actor=alice, agent=agent, run_states={})  # hands out the first point
    return team


def fresh(user):
    """The user without guardian's per-instance permission cache."""
    return User.objects.get(pk=user.pk)


# Changelists, search and filters

CHANGELISTS = {
    # model: (search, a list filter, text the filtered result shows)
    User: ("alice", "is_service__exact=0", "alice@example.com"),
    ApiKey: ("laptop", "user__is_service__exact=0", "laptop"),
    Entity: ("example", "kind__exact=team", "example-team"),
    Membership: ("bob", "role__exact=member", "example-team"),
    Invitation: ("carol", "role__exact=member", "carol@example.com"),
    EmailAddress: ("alice", "verified__exact=1", "alice@example.com"),
    Group: ("audit", "", "auditors"),
    EntityUserObjectPermission: ("bob", "permission__codename=write_entity", "bob"),
    AuditEvent: ("carol", "verb__exact=invitation.sent", "carol@example.com"),
    Project: ("resnet", "in_trash=no", "resnet"),
    Run: ("brisk", "state__exact=running", "abc123"),
    Alert: ("diverged", "level__exact=ERROR", "Loss diverged"),
    AlertRule: ("high", "kind__exact=threshold", "Loss too high"),
    AlertEvent: ("loss", "", "Loss too high"),
    Webhook: ("ops", "format__exact=slack", "https://chat.example.com"),
    RunFile: ("requirements", "", "requirements.txt"),
    Artifact: ("mymodel", "state__exact=COMMITTED", "mymodel:v0"),
    ArtifactCollection: ("mymodel", "kind__exact=sequence", "mymodel"),
    ArtifactLink: ("classifier", "", "classifier:v0"),
    AliasMove: ("classifier", "alias__exact=production", "production"),
    ProtectedAlias: ("champion", "", "champion"),
    SavedView: ("best", "shared__exact=1", "best resnets"),
    Report: ("weekly", "", "Weekly findings"),
    Sweep: ("resnet", "method__exact=grid", "grid"),
    SweepAgent: ("gpu-box", "state__exact=RUNNING", "gpu-box-7"),
    SweepRun: ("", "state__exact=RESERVED", "Reserved"),
    PeriodicJob: ("crashed", "", "mark_crashed_runs"),
    DBTaskResult: ("", "status__exact=READY", "send_email"),
}


def test_every_registered_model_has_a_changelist_case():
    # Teamsite grants no permissions to groups, so that changelist is empty by design.
    assert set(admin.site._registry) == {*CHANGELISTS, EntityGroupObjectPermission}


@pytest.mark.parametrize("model", CHANGELISTS, ids=lambda model: model._meta.label)
def test_changelist_with_search_and_filter_renders_the_matching_rows(admin_client, cast, model):
    search, list_filter, shown = CHANGELISTS[model]
    url = admin_url(model, "changelist")

    plain = admin_client.get(url)
    searched = admin_client.get(f"{url}?q={search}&{list_filter}")

    assert plain.status_code == 200
    assert searched.status_code == 200
    assert shown in searched.text
    assert searched.context["cl"].result_count >= 1


@pytest.mark.parametrize(
    ("model", "url_filter", "count"),
    [
        (Entity, "kind__exact=user", 4),  # alice, bob, charlie, operator; sam has none
        (Entity, "kind__exact=team", 1),
        (Membership, "role__exact=service", 1),
        (ApiKey, "user__is_service__exact=1", 1),
        (User, "is_service__exact=1", 1),
        (Invitation, f"role__exact={Role.ADMIN}", 0),
    ],
)
def test_list_filters_narrow_the_changelist(admin_client, cast, model, url_filter, count):
    response = admin_client.get(f"{admin_url(model, 'changelist')}?{url_filter}")

    assert response.status_code == 200
    assert response.context["cl"].result_count == count


@pytest.mark.parametrize("model", CHANGELISTS, ids=lambda model: model._meta.label)
def test_change_page_of_every_registered_model_renders(admin_client, cast, model):
    obj = model.objects.first()

    response = admin_client.get(admin_url(model, "change", obj.pk))

    assert response.status_code == 200


def test_object_permissions_are_listed_but_never_editable_in_the_admin(admin_client, team):
    # Object permissions are derived from roles (teams.models.ROLE_PERMISSIONS) by the services;
    # editing them by hand would make them disagree with the role shown on the membership.
    url = admin_url(EntityUserObjectPermission, "changelist")
    response = admin_client.get(f"{url}?q=bob&content_object__kind__exact=team")

    assert response.status_code == 200
    assert response.context["cl"].result_count == 2  # bob the member: view and write
    for model in [EntityUserObjectPermission, EntityGroupObjectPermission]:
        model_admin = admin.site._registry[model]
        request = response.wsgi_request
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    for model in [UserObjectPermission, GroupObjectPermission]:
        assert not admin.site.is_registered(model)


def test_the_entity_change_page_lists_its_members(admin_client, team):
    response = admin_client.get(admin_url(Entity, "change", team.pk))

    assert response.status_code == 200
    assert "alice" in response.text
    assert "bob" in response.text


# Creating a team


def test_creating_a_team_in_the_admin_makes_the_superuser_its_admin(admin_client, operator):
    response = admin_client.post(
        admin_url(Entity, "add"),
        {
            "name": " Ops-Team ",
            "is_private": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    team = Entity.objects.get(name="ops-team")
    assert team.kind == Entity.Kind.TEAM
    assert team.is_private
    membership = Membership.objects.get(entity=team)
    assert membership.user == operator
    assert membership.role == Role.ADMIN
    assert membership.is_default
    assert fresh(operator).has_perm("teams.admin_entity", team)


@pytest.mark.parametrize(
    ("name", "error"), [("alice", "taken"), ("EXAMPLE-TEAM", "taken"), ("api", "reserved")]
)
def test_the_admin_refuses_a_team_name_that_is_taken_or_reserved(admin_client, team, name, error):
    entities_before = Entity.objects.count()

    response = admin_client.post(
        admin_url(Entity, "add"),
        {"name": name, "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 200
    assert error in " ".join(response.context["adminform"].form.errors["name"])
    assert Entity.objects.count() == entities_before


def test_changing_a_teams_privacy_in_the_admin_keeps_its_memberships(admin_client, team):
    response = admin_client.post(
        admin_url(Entity, "change", team.pk),
        {"memberships-TOTAL_FORMS": "2", "memberships-INITIAL_FORMS": "2"}
        | {
            f"memberships-{n}-id": str(m.pk)
            for n, m in enumerate(team.memberships.order_by("created_at"))
        }
        | {f"memberships-{n}-entity": str(team.pk) for n in range(2)},
    )

    assert response.status_code == 302
    team.refresh_from_db()
    assert not team.is_private
    assert team.memberships.count() == 2


def test_entities_cannot_be_deleted_in_the_admin(admin_client, team):
    response = admin_client.post(admin_url(Entity, "delete", team.pk), {"post": "yes"})

    assert response.status_code == 403
    assert Entity.objects.filter(pk=team.pk).exists()


# Changing a role


def change_role(client, membership, role):
    return client.post(admin_url(Membership, "change", membership.pk), {"role": role})


def test_promoting_a_member_to_admin_in_the_admin_grants_admin_permissions(
    admin_client, team, bob, membership_of
):
    response = change_role(admin_client, membership_of(team, bob), Role.ADMIN)

    assert response.status_code == 302
    assert membership_of(team, bob).role == Role.ADMIN
    assert fresh(bob).has_perm("teams.admin_entity", team)


def test_demoting_an_admin_in_the_admin_when_another_admin_remains(
    admin_client, team, alice, bob, membership_of
):
    services.membership_set_role(membership=membership_of(team, bob), role=Role.ADMIN)

    response = change_role(admin_client, membership_of(team, alice), Role.MEMBER)

    assert response.status_code == 302
    assert membership_of(team, alice).role == Role.MEMBER
    assert not fresh(alice).has_perm("teams.admin_entity", team)
    assert fresh(alice).has_perm("teams.write_entity", team)


def test_demoting_the_last_admin_in_the_admin_is_a_form_error(
    admin_client, team, alice, membership_of
):
    response = change_role(admin_client, membership_of(team, alice), Role.MEMBER)

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors == ["alice is the last admin of example-team. Make someone else an admin first."]
    assert "is the last admin of example-team" in response.text
    assert membership_of(team, alice).role == Role.ADMIN
    assert fresh(alice).has_perm("teams.admin_entity", team)


def test_making_a_member_a_viewer_in_the_admin_leaves_view_only(
    admin_client, team, bob, membership_of
):
    response = change_role(admin_client, membership_of(team, bob), Role.VIEWER)

    assert response.status_code == 302
    membership = membership_of(team, bob)
    assert membership.role == Role.VIEWER and not membership.is_default
    assert fresh(bob).has_perm("teams.view_entity", team)
    assert not fresh(bob).has_perm("teams.write_entity", team)


def test_the_admin_offers_no_service_role_to_people(admin_client, team, bob, membership_of):
    response = change_role(admin_client, membership_of(team, bob), Role.SERVICE)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["role"]
    assert membership_of(team, bob).role == Role.MEMBER


def test_a_service_accounts_membership_is_read_only_in_the_admin(
    admin_client, team, sam, membership_of
):
    response = change_role(admin_client, membership_of(team, sam), Role.ADMIN)

    assert response.status_code == 302
    assert membership_of(team, sam).role == Role.SERVICE


def test_adding_a_membership_in_the_admin_goes_through_the_service(
    admin_client, team, charlie, membership_of
):
    response = admin_client.post(
        admin_url(Membership, "add"),
        {"entity": team.pk, "user": charlie.pk, "role": Role.MEMBER},
    )

    assert response.status_code == 302
    membership = membership_of(team, charlie)
    assert membership.role == Role.MEMBER
    assert membership.is_default
    assert fresh(charlie).has_perm("teams.write_entity", team)


# Deleting memberships


def test_deleting_the_last_admins_membership_is_listed_as_protected_and_refused(
    admin_client, team, alice, membership_of
):
    membership = membership_of(team, alice)
    url = admin_url(Membership, "delete", membership.pk)

    page = admin_client.get(url)
    attempt = admin_client.post(url, {"post": "yes"})

    assert page.status_code == 200
    assert page.context["protected"] == [
        "alice is the last admin of example-team. Make someone else an admin first."
    ]
    assert "protected" in page.text
    assert attempt.status_code == 200
    assert Membership.objects.filter(pk=membership.pk).exists()
    assert fresh(alice).has_perm("teams.admin_entity", team)


def test_the_delete_action_refuses_the_last_admins_membership_too(
    admin_client, team, alice, membership_of
):
    membership = membership_of(team, alice)

    response = admin_client.post(
        admin_url(Membership, "changelist"),
        {"action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"},
    )

    assert response.status_code == 200
    assert response.context["protected"]
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_deleting_a_personal_entitys_own_membership_is_refused(admin_client, alice):
    membership = Membership.objects.get(entity__user=alice)
    url = admin_url(Membership, "delete", membership.pk)

    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 200
    assert response.context["protected"]
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_deleting_a_members_membership_removes_them_and_their_permissions(admin_client, team, bob):
    membership = Membership.objects.get(entity=team, user=bob)
    assert fresh(bob).has_perm("teams.view_entity", team)

    response = admin_client.post(admin_url(Membership, "delete", membership.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Membership.objects.filter(entity=team, user=bob).exists()
    assert not EntityUserObjectPermission.objects.filter(user=bob, content_object=team).exists()
    assert not fresh(bob).has_perm("teams.view_entity", team)
    # The team was bob's default entity; his own takes its place again.
    assert Membership.objects.get(user=bob, is_default=True).entity == bob.personal_entity


def test_the_delete_action_removes_members_through_the_service(admin_client, team, bob, charlie):
    services.membership_add(entity=team, user=charlie, role=Role.MEMBER)
    selected = Membership.objects.filter(entity=team, user__in=[bob, charlie])

    response = admin_client.post(
        admin_url(Membership, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [m.pk for m in selected],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert list(team.memberships.values_list("user__username", flat=True)) == ["alice"]
    for user in [bob, charlie]:
        assert not EntityUserObjectPermission.objects.filter(user=user, content_object=team)
        assert Membership.objects.get(user=user, is_default=True).entity.user == user


# Deleting users


def test_deleting_the_last_admin_of_a_team_is_listed_as_protected_and_refused(
    admin_client, team, alice
):
    url = admin_url(User, "delete", alice.pk)

    page = admin_client.get(url)
    attempt = admin_client.post(url, {"post": "yes"})

    assert page.status_code == 200
    assert page.context["protected"] == [
        "alice is the last admin of example-team. Make someone else an admin first."
    ]
    assert attempt.status_code == 200
    assert User.objects.filter(pk=alice.pk).exists()
    assert Membership.objects.filter(entity=team, user=alice, role=Role.ADMIN).exists()


def test_the_user_delete_action_refuses_the_last_admin_too(admin_client, team, alice, charlie):
    response = admin_client.post(
        admin_url(User, "changelist"),
        {"action": "delete_selected", "_selected_action": [alice.pk, charlie.pk], "post": "yes"},
    )

    assert response.status_code == 200
    assert response.context["protected"]
    assert User.objects.filter(pk__in=[alice.pk, charlie.pk]).count() == 2


def test_deleting_a_member_user_deletes_them_and_their_memberships(admin_client, team, bob):
    response = admin_client.post(admin_url(User, "delete", bob.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=bob.pk).exists()
    assert not Entity.objects.filter(name="bob").exists()
    assert list(team.memberships.values_list("user__username", flat=True)) == ["alice"]
    assert not EntityUserObjectPermission.objects.filter(user_id=bob.pk).exists()


def test_deleting_an_admin_is_allowed_once_another_admin_remains(
    admin_client, team, alice, bob, membership_of
):
    services.membership_set_role(membership=membership_of(team, bob), role=Role.ADMIN)

    response = admin_client.post(admin_url(User, "delete", alice.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()
    assert list(Membership.objects.human_admins().filter(entity=team)) == [membership_of(team, bob)]


# Invitations


def test_the_revoke_action_revokes_pending_invitations(admin_client, invitation):
    response = admin_client.post(
        admin_url(Invitation, "changelist"),
        {"action": "revoke", "_selected_action": [invitation.pk]},
    )

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED


def test_invitations_and_api_keys_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(admin_url(Invitation, "add")).status_code == 403
    assert admin_client.get(admin_url(ApiKey, "add")).status_code == 403


# Access


@pytest.mark.parametrize("path", ["/admin/", "/admin/teams/membership/", "/admin/accounts/user/"])
def test_people_who_are_not_staff_are_sent_to_the_admin_login(client, alice, path):
    # alice administers a team, but that gives her no site administration.
    client.force_login(alice)

    response = client.get(path)

    assert response.status_code == 302
    assert response.url == f"/admin/login/?next={path}"


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get("/admin/teams/entity/")

    assert response.status_code == 302
    assert response.url == "/admin/login/?next=/admin/teams/entity/"


def test_a_non_staff_post_to_the_admin_changes_nothing(client, team, bob, membership_of):
    client.force_login(bob)

    client.post(admin_url(Membership, "change", membership_of(team, bob).pk), {"role": "admin"})

    assert membership_of(team, bob).role == Role.MEMBER


def test_deleting_a_project_in_the_admin_deletes_it_for_good_and_is_audited(admin_client, cast):
    project = Project.objects.get(name="resnet")

    response = admin_client.post(admin_url(Project, "delete", project.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Project.with_trashed.filter(pk=project.pk).exists()
    assert not Run.with_trashed.filter(run_id="abc123").exists()
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.PROJECT_PURGED)
    assert event.target == "resnet" and event.details == {"runs": 1}
    assert event.actor.is_superuser


def test_the_admin_lists_projects_in_the_trash_apart(admin_client, cast):
    project = Project.objects.get(name="resnet")
    project_delete(project=project, actor=project.created_by, confirm_name="resnet")
    url = admin_url(Project, "changelist")

    in_trash = admin_client.get(f"{url}?in_trash=yes")
    live = admin_client.get(f"{url}?in_trash=no")

    assert [p.name for p in in_trash.context["cl"].result_list] == ["resnet"]
    assert "resnet" not in [p.name for p in live.context["cl"].result_list]
    assert admin_client.get(admin_url(Project, "change", project.pk)).status_code == 200
    response = admin_client.post(
        admin_url(Project, "change", project.pk), {"description": "old", "visibility": "team"}
    )
    assert response.status_code == 302
    assert Project.with_trashed.get(pk=project.pk).description == "old"


def test_a_runs_project_cannot_be_changed_in_the_admin(admin_client, cast):
    run = Run.objects.get(run_id="abc123")
    other = project_create(entity=cast, name="other", creator=run.author)

    admin_client.post(
        admin_url(Run, "change", run.pk),
        {
            "project": other.pk,
            "name": "renamed",
            "state": "finished",
            "config": "{}",
            "summary": "{}",
            "tags": "[]",
        },
    )

    run.refresh_from_db()
    assert run.name == "renamed"  # the form saved...
    assert run.project.name == "resnet"  # ...but not the project
