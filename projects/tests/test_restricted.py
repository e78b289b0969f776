"""Restricted projects: seen only by the team's admins and the members named on them; to the
rest of the team they are as unknown as a private project to an outsider."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.delivery import alert_recipients
from alerts.models import AlertDelivery, AlertEvent
from alerts.notifications import notifications_of
from artifacts import registry
from artifacts.models import Artifact, ArtifactCollection
from artifacts.registry_selectors import registered_model_versions
from home.search import search
from projects import selectors
from projects.access import ProjectNeed, project_rights
from projects.models import Project, ProjectMember
from projects.services import ProjectError, project_access_set, project_update
from reports import comments as report_comments
from reports import services as report_services
from reports import share as report_share
from reports.models import Report
from runs.models import Alert, Run
from runs.services import RunsForbidden, runs_move
from teams import services as team_services
from teams.access import entity_permissions
from teams.models import AuditEvent, Membership, Role
from tests.factories import ProjectFactory, RunFactory, UserFactory, add_member
from tests.personas import SECRET_PROJECT as SECRET

pytestmark = pytest.mark.django_db


def rights(user, project):
    project = Project.objects.select_related("entity").get(pk=project.pk)
    return project_rights(user, project, entity_permissions(user, project.entity))


def named(project):
    return sorted(
        ProjectMember.objects.filter(project=project).values_list(
            "membership__user__username", flat=True
        )
    )


# Services


def test_admin_restricts_a_project_naming_members_and_it_is_audited(secret, alice):
    assert secret.is_restricted
    assert named(secret) == ["erin"]
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.PROJECT_ACCESS_CHANGED)
    assert event.actor == alice
    assert event.target == SECRET
    assert event.details == {"restricted": True, "added": ["erin"], "removed": []}


def test_changing_the_named_members_audits_who_was_added_and_removed(secret, alice, bob, team):
    project_access_set(
        project=secret,
        actor=alice,
        restricted=True,
        memberships=[Membership.objects.get(entity=team, user=bob)],
    )
    assert named(secret) == ["bob"]
    event = AuditEvent.objects.filter(verb=AuditEvent.Verb.PROJECT_ACCESS_CHANGED).latest("id")
    assert event.details == {"restricted": True, "added": ["bob"], "removed": ["erin"]}


def test_saving_the_same_access_again_records_nothing(secret, alice, team, erin):
    before = AuditEvent.objects.count()
    project_access_set(
        project=secret,
        actor=alice,
        restricted=True,
        memberships=[Membership.objects.get(entity=team, user=erin)],
    )
    assert AuditEvent.objects.count() == before


def test_member_cannot_change_who_may_see_a_project(team, alice, bob):
    project = ProjectFactory(entity=team, creator=bob, name="bobs")
    with pytest.raises(ProjectError, match="Only admins"):
        project_access_set(project=project, actor=bob, restricted=True, memberships=[])
    project.refresh_from_db()
    assert not project.is_restricted


def test_a_personal_project_cannot_be_restricted(alice):
    personal = Membership.objects.get(user=alice, entity__kind="user").entity
    project = ProjectFactory(entity=personal, creator=alice, name="mine")
    with pytest.raises(ProjectError, match="team's projects"):
        project_access_set(project=project, actor=alice, restricted=True, memberships=[])
    project.refresh_from_db()
    assert not project.is_restricted


def test_only_members_of_the_team_can_be_named(team, public_team, alice, charlie):
    add_member(public_team, charlie, Role.MEMBER)
    project = ProjectFactory(entity=team, creator=alice, name="ours")
    elsewhere = Membership.objects.get(entity=public_team, user=charlie)
    with pytest.raises(ProjectError, match="Name members of example-team only"):
        project_access_set(project=project, actor=alice, restricted=True, memberships=[elsewhere])
    assert named(project) == []


def test_restricting_makes_the_project_and_its_public_reports_team_only(public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="shown", visibility="public")
    report = report_services.report_create(project=project, title="Findings", actor=alice)
    Report.objects.filter(pk=report.pk).update(visibility=Report.Visibility.PUBLIC)
    project_access_set(project=project, actor=alice, restricted=True, memberships=[])
    project.refresh_from_db()
    report.refresh_from_db()
    assert project.visibility == Project.Visibility.TEAM
    assert report.visibility == Report.Visibility.TEAM
    event = AuditEvent.objects.filter(verb=AuditEvent.Verb.PROJECT_ACCESS_CHANGED).latest("id")
    assert event.details["visibility"] == "team"
    assert event.details["reports_made_team_only"] == 1


def test_a_restricted_project_cannot_be_made_public(public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="shown")
    project_access_set(project=project, actor=alice, restricted=True, memberships=[])
    with pytest.raises(ProjectError, match="cannot be public"):
        project_update(project=project, actor=alice, description="", visibility="public")
    project.refresh_from_db()
    assert project.visibility == Project.Visibility.TEAM


def test_a_report_of_a_restricted_project_cannot_be_public(public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="shown")
    project_access_set(project=project, actor=alice, restricted=True, memberships=[])
    report = report_services.report_create(project=project, title="Findings", actor=alice)
    report.project.refresh_from_db()
    with pytest.raises(Exception, match="restricted") as error:
        report_share.report_set_visibility(report=report, visibility="public", actor=alice)
    assert "visibility" in error.value.message_dict
    report.refresh_from_db()
    assert report.visibility == Report.Visibility.TEAM


# Who may see it


def test_only_admins_and_named_members_have_rights(secret, alice, bob, erin, charlie):
    assert rights(bob, secret) == set()
    assert rights(charlie, secret) == set()
    assert ProjectNeed.VIEW in rights(alice, secret)
    assert ProjectNeed.ADMIN in rights(alice, secret)
    assert rights(erin, secret) == {ProjectNeed.VIEW, ProjectNeed.WRITE}


def test_a_service_account_sees_it_only_when_named(secret, alice, sam, team):
    assert rights(sam, secret) == set()
    project_access_set(
        project=secret,
        actor=alice,
        restricted=True,
        memberships=[Membership.objects.get(entity=team, user=sam)],
    )
    assert rights(sam, secret) == {ProjectNeed.VIEW, ProjectNeed.WRITE}


def test_leaving_the_team_ends_the_naming_and_rejoining_does_not_restore_it(
    secret, team, alice, erin
):
    membership = Membership.objects.get(entity=team, user=erin)
    team_services.membership_remove(membership=membership, actor=alice)
    assert named(secret) == []
    add_member(team, erin, Role.MEMBER)
    assert rights(erin, secret) == set()


def test_unnamed_member_gets_404_on_the_project_pages(client, secret, bob):
    client.force_login(bob)
    for url in (
        secret.get_absolute_url(),
        secret.get_settings_url(),
        reverse("reports:list", args=[secret.entity.name, SECRET]),
    ):
        assert client.get(url).status_code == 404, url


def test_named_member_and_admin_see_the_project_with_its_badge(client, secret, alice, erin):
    for user in (alice, erin):
        client.force_login(user)
        response = client.get(secret.get_absolute_url())
        assert response.status_code == 200
        assert b'<span class="badge"' in response.content
        assert b">restricted</span>" in response.content


def test_entity_page_lists_it_only_for_those_who_see_it(client, secret, team, bob, erin):
    client.force_login(bob)
    assert SECRET not in client.get(reverse("entity", args=[team.name])).content.decode()
    client.force_login(erin)
    page = client.get(reverse("entity", args=[team.name])).content.decode()
    assert SECRET in page and ">restricted</span>" in page


def test_search_does_not_name_it_to_unnamed_members(client, secret, bob, erin, alice):
    RunFactory(project=secret, author=alice, name="vision-run-q4")
    report_services.report_create(project=secret, title="vision-report-q4", actor=erin)
    client.force_login(bob)
    body = client.get("/search/", {"q": "q4"}).content.decode()
    assert SECRET not in body and "vision-run-q4" not in body and "vision-report-q4" not in body
    assert all(not group.rows for group in search(bob, "q4"))
    found = {group.key: list(group.rows) for group in search(erin, "q4")}
    assert [project.name for project in found["projects"]] == [SECRET]
    assert [run.name for run in found["runs"]] == ["vision-run-q4"]
    assert [report.shown_title for report in found["reports"]] == ["vision-report-q4"]


# Lists


def test_selectors_leave_it_out_for_unnamed_members(secret, team, alice, bob, erin, sam):
    open_project = ProjectFactory(entity=team, creator=alice, name="open")
    for user, sees in ((bob, False), (sam, False), (erin, True), (alice, True)):
        expected = {open_project.name, SECRET} if sees else {open_project.name}
        assert {p.name for p in selectors.projects_visible_to(user, team)} == expected, user
        assert {p.name for p in selectors.all_projects_visible_to(user)} >= expected
        assert (SECRET in {p.name for p in selectors.all_projects_visible_to(user)}) == sees
        assert (SECRET in {p.name for p in selectors.projects_writable_by(user)}) == sees
        if not user.is_service:
            assert (SECRET in {p.name for p in selectors.recent_projects_of(user)}) == sees


def _entity_page_queries(client, team) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("entity", args=[team.name])).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["erin", "alice", "bob"])
def test_entity_page_costs_the_same_with_1_and_5_restricted_projects(
    client, secret, team, alice, request, who
):
    client.force_login(request.getfixturevalue(who))
    memberships = list(Membership.objects.filter(entity=team, user__username="erin"))
    _entity_page_queries(client, team)
    one = _entity_page_queries(client, team)
    for n in range(4):
        project = ProjectFactory(entity=team, creator=alice, name=f"more-{n}")
        project_access_set(project=project, actor=alice, restricted=True, memberships=memberships)
    assert _entity_page_queries(client, team) == one


def test_graphql_list_costs_the_same_with_1_and_5_restricted_projects(secret, team, alice, erin):
    memberships = list(Membership.objects.filter(entity=team, user=erin))
    rows = []
    for count in (1, 5):
        while Project.objects.filter(entity=team, is_restricted=True).count() < count:
            n = Project.objects.count()
            project = ProjectFactory(entity=team, creator=alice, name=f"more-{n}")
            project_access_set(
                project=project, actor=alice, restricted=True, memberships=memberships
            )
        with CaptureQueriesContext(connection) as queries:
            projects = list(selectors.projects_visible_to(erin, team))
            for project in projects:
                project_rights(erin, project, {"view_entity", "write_entity"})
        rows.append((len(projects), len(queries)))
    assert rows[0][1] == rows[1][1] == 1
    assert rows[1][0] == rows[0][0] + 4


# The settings page


def test_admin_sees_the_access_section_with_the_members_to_name(client, secret, alice, sam):
    client.force_login(alice)
    page = client.get(secret.get_settings_url()).content.decode()
    assert 'id="access"' in page
    assert 'name="restricted"' in page and "checked" in page
    assert "erin" in page and "bob" in page and "sam@example-team (service account)" in page
    assert "always see this project" in page
    assert "public reports team-only" in page


def test_the_creator_who_is_no_admin_cannot_change_access(client, team, alice, bob):
    project = ProjectFactory(entity=team, creator=bob, name="bobs")
    client.force_login(bob)
    page = client.get(project.get_settings_url()).content.decode()
    assert 'name="restricted"' not in page
    client.post(
        project.get_settings_url(),
        {"description": "", "visibility": "team", "restricted": "on"},
    )
    project.refresh_from_db()
    assert not project.is_restricted


def test_admin_restricts_through_the_settings_form(client, team, alice, bob, erin):
    project = ProjectFactory(entity=team, creator=alice, name="tuning")
    erin_membership = Membership.objects.get(entity=team, user=erin)
    client.force_login(alice)
    response = client.post(
        project.get_settings_url(),
        {
            "description": "only some",
            "visibility": "team",
            "restricted": "on",
            "members": [erin_membership.pk],
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.is_restricted and project.description == "only some"
    assert named(project) == ["erin"]


def test_settings_form_refuses_public_and_restricted(client, public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="shown")
    client.force_login(alice)
    response = client.post(
        project.get_settings_url(),
        {"description": "x", "visibility": "public", "restricted": "on"},
    )
    assert response.status_code == 400
    assert "cannot be public" in response.content.decode()
    project.refresh_from_db()
    assert not project.is_restricted and project.description == ""


# Moves


def test_named_member_cannot_move_own_runs_out_but_admin_can(secret, team, alice, erin):
    target = ProjectFactory(entity=team, creator=alice, name="target")
    run = RunFactory(project=secret, author=erin)
    with pytest.raises(RunsForbidden, match="only admins of example-team move runs out"):
        runs_move(actor=erin, source=secret, runs=Run.objects.filter(pk=run.pk), target=target)
    run.refresh_from_db()
    assert run.project == secret
    runs_move(actor=alice, source=secret, runs=Run.objects.filter(pk=run.pk), target=target)
    run.refresh_from_db()
    assert run.project == target


def test_moving_into_a_restricted_project_needs_access_to_it(secret, team, alice, bob, erin):
    source = ProjectFactory(entity=team, creator=alice, name="source")
    bobs = RunFactory(project=source, author=bob)
    with pytest.raises(RunsForbidden, match="cannot write to the target"):
        runs_move(actor=bob, source=source, runs=Run.objects.filter(pk=bobs.pk), target=secret)
    assert Run.objects.get(pk=bobs.pk).project == source
    erins = RunFactory(project=source, author=erin)
    runs_move(actor=erin, source=source, runs=Run.objects.filter(pk=erins.pk), target=secret)
    assert Run.objects.get(pk=erins.pk).project == secret


def test_move_page_offers_no_restricted_target_to_unnamed_members(client, secret, team, bob):
    source = ProjectFactory(entity=team, creator=bob, name="source")
    RunFactory(project=source, author=bob)
    client.force_login(bob)
    assert SECRET not in client.get(source.get_absolute_url()).content.decode()


# What reaches people about it


def test_alert_emails_reach_only_those_who_see_the_project(secret, team, alice, bob, erin):
    for user in (bob, erin):
        Membership.objects.filter(entity=team, user=user).update(alert_emails=True)
    run = RunFactory(project=secret, author=alice)
    alert = Alert.objects.create(run=run, title="diverged")
    event = AlertEvent.objects.create(project=secret, run=run, client_alert=alert, message="x")
    assert {r.user.username for r in alert_recipients(event)} == {"alice", "erin"}


def test_registry_hides_versions_linked_from_a_restricted_project(secret, team, alice, bob, erin):
    run = RunFactory(project=secret, author=alice)
    artifact = Artifact.objects.create(
        collection=ArtifactCollection.objects.create(project=secret, name="weights", type="model"),
        version_index=0,
        digest="0" * 32,
        state=Artifact.State.COMMITTED,
        created_by_run=run,
    )
    registry_project = ProjectFactory(entity=team, creator=alice, name=registry.REGISTRY_PROJECT)
    link = registry.artifact_link(
        artifact=artifact, project=registry_project, portfolio_name="classifier", actor=alice
    )
    assert registered_model_versions(link.portfolio, bob) == []
    assert [v.pk for v in registered_model_versions(link.portfolio, erin)] == [link.pk]


def test_an_unnamed_members_notifications_of_it_are_gone(client, secret, alice, bob):
    run = RunFactory(project=secret, author=bob)  # logged before the project was restricted
    alert = Alert.objects.create(run=run, title="diverged")
    event = AlertEvent.objects.create(project=secret, run=run, client_alert=alert, message="x")
    delivery = AlertDelivery.objects.create(
        event=event, channel=AlertDelivery.Channel.IN_APP, user=bob, status="sent"
    )
    assert list(notifications_of(bob)) == []
    client.force_login(bob)
    assert client.post(reverse("notifications:open", args=[delivery.pk])).status_code == 404


def test_comment_notices_reach_only_those_who_see_it(secret, team, alice, bob, erin):
    report = report_services.report_create(project=secret, title="Findings", actor=erin)
    report_comments.comment_add(report=report, author=bob, body="before the restriction")
    later = report_comments.comment_add(report=report, author=alice, body="now")
    assert report_comments.comment_recipients(later) == [erin.email]


def test_the_django_admin_cannot_make_a_restricted_project_public(client, public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="shown")
    project_access_set(project=project, actor=alice, restricted=True, memberships=[])
    operator = UserFactory(username="root")
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = client.post(url, {"description": "x", "visibility": "public"})
    assert response.status_code == 200
    assert "cannot be public" in response.content.decode()
    project.refresh_from_db()
    assert project.visibility == "team" and project.is_restricted


def test_a_version_page_does_not_name_runs_of_it_that_use_the_version(
    client, secret, team, alice, bob, erin
):
    shared = ProjectFactory(entity=team, creator=alice, name="shared-data")
    artifact = Artifact.objects.create(
        collection=ArtifactCollection.objects.create(project=shared, name="images", type="dataset"),
        version_index=0,
        digest="0" * 32,
        state=Artifact.State.COMMITTED,
    )
    artifact.used_by.add(RunFactory(project=secret, author=erin, name="secret-user-run"))
    url = reverse("artifacts:version", args=[team.name, shared.name, "dataset", "images", "v0"])
    client.force_login(bob)
    page = client.get(url).content.decode()
    assert "secret-user-run" not in page and SECRET not in page
    client.force_login(erin)
    assert "secret-user-run" in client.get(url).content.decode()


def test_a_view_only_link_made_by_someone_with_access_keeps_working(client, secret, erin, bob):
    report = report_services.report_create(project=secret, title="Shared findings", actor=erin)
    report_services.report_publish(report=report, actor=erin)
    _, token = report_share.share_link_create(report=report, actor=erin)
    client.force_login(bob)
    assert client.get(reverse("reports:list", args=[secret.entity.name, SECRET])).status_code == 404
    response = client.get(reverse("shared_report", args=[token]))
    assert response.status_code == 200
    assert "Shared findings" in response.content.decode()
