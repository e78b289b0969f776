"""The project trash: deleting moves a project and its runs there, its creator or an admin
restores it, an admin deletes it for good, the periodic job purges it after
TRASH_RETENTION_DAYS; meanwhile its name stays taken and nothing of it shows anywhere.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider), sam (the team's service account).
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from artifacts.models import Artifact, ArtifactCollection, ArtifactLink
from artifacts.registry_selectors import registered_model_versions, registered_models
from jobs import periodic
from projects import services
from projects.models import Project
from reports.selectors import reports_readable_by
from reports.services import report_create
from runs.models import Run
from runs.services import RunsError, runs_move
from teams.models import AuditEvent
from tests.factories import ProjectFactory, RunFactory, api_key_for

from .test_project_pages import assert_sent_to_login, login, messages_of

TRASH = "/example-team/projects/trash/"
RESTORE = "/example-team/projects/trash/{}/restore/"
FOREVER = "/example-team/projects/trash/{}/delete/"


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def bert(team, bob):
    return ProjectFactory(entity=team, creator=bob, name="bert")


def trash(project, actor):
    return services.project_delete(project=project, actor=actor, confirm_name=project.name)


def in_trash(name):
    return Project.with_trashed.get(name=name)


def run_ids(**filters):
    return sorted(Run.with_trashed.filter(**filters).values_list("run_id", flat=True))


# Services


def test_trash_hides_the_project_and_marks_its_live_runs(alice, resnet):
    RunFactory(project=resnet, run_id="a")
    RunFactory(project=resnet, run_id="b")
    earlier = timezone.now() - timedelta(days=3)
    RunFactory(project=resnet, run_id="alone", trashed_at=earlier, trashed_by=alice)

    trash(resnet, alice)

    assert not Project.objects.filter(name="resnet").exists()
    project = in_trash("resnet")
    assert project.trashed_by == alice
    assert run_ids(trashed_with_project=True) == ["a", "b"]
    assert set(
        Run.with_trashed.filter(trashed_with_project=True).values_list("trashed_at", "trashed_by")
    ) == {(project.trashed_at, alice.pk)}
    # The run trashed on its own keeps its own date and stays apart.
    alone = Run.with_trashed.get(run_id="alone")
    assert (alone.trashed_at, alone.trashed_with_project) == (earlier, False)
    assert not Run.objects.exists()
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.PROJECT_DELETED)
    assert (event.actor, event.target, event.details) == (alice, "resnet", {"runs": 2})


def test_restore_brings_back_only_the_runs_that_went_with_the_project(alice, resnet):
    RunFactory(project=resnet, run_id="a")
    RunFactory(project=resnet, run_id="alone", trashed_at=timezone.now(), trashed_by=alice)
    trash(resnet, alice)

    services.project_restore(project=in_trash("resnet"), actor=alice)

    project = Project.objects.get(name="resnet")
    assert (project.trashed_at, project.trashed_by) == (None, None)
    assert list(Run.objects.values_list("run_id", "trashed_with_project")) == [("a", False)]
    assert run_ids(trashed_at__isnull=False) == ["alone"]
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.PROJECT_RESTORED)
    assert (event.actor, event.target, event.details) == (alice, "resnet", {"runs": 1})


def test_a_project_in_the_trash_cannot_be_trashed_again_or_a_live_one_restored(alice, resnet):
    with pytest.raises(services.ProjectError, match="not in the trash"):
        services.project_restore(project=resnet, actor=alice)
    trash(resnet, alice)
    with pytest.raises(services.ProjectError, match="already in the trash"):
        trash(resnet, alice)
    assert AuditEvent.objects.filter(verb=AuditEvent.Verb.PROJECT_DELETED).count() == 1


def test_the_service_refuses_a_restore_by_another_member(bob, alice, resnet):
    trash(resnet, alice)
    with pytest.raises(services.ProjectError):
        services.project_restore(project=in_trash("resnet"), actor=bob)
    assert in_trash("resnet").trashed_at is not None


def test_purge_waits_for_the_retention_period(alice, resnet, bert):
    RunFactory(project=resnet, run_id="a")
    RunFactory(project=resnet, run_id="alone", trashed_at=timezone.now(), trashed_by=alice)
    RunFactory(project=bert, run_id="kept")
    trash(resnet, alice)
    trashed_at = in_trash("resnet").trashed_at
    retention = timedelta(days=settings.TRASH_RETENTION_DAYS)

    assert services.projects_purge_expired(now=trashed_at + retention - timedelta(hours=1)) == 0
    assert Project.with_trashed.filter(name="resnet").exists()

    assert services.projects_purge_expired(now=trashed_at + retention + timedelta(hours=1)) == 1
    assert not Project.with_trashed.filter(name="resnet").exists()
    assert run_ids() == ["kept"]
    assert Project.objects.filter(name="bert").exists()
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.PROJECT_PURGED)
    assert (event.actor, event.target, event.details) == (None, "resnet", {"runs": 2})


def test_purge_leaves_a_project_restored_meanwhile(alice, resnet):
    trash(resnet, alice)
    later = in_trash("resnet").trashed_at + timedelta(days=settings.TRASH_RETENTION_DAYS + 1)
    services.project_restore(project=in_trash("resnet"), actor=alice)

    assert services.projects_purge_expired(now=later) == 0
    assert Project.objects.filter(name="resnet").exists()


def test_the_purge_is_an_hourly_periodic_job():
    [job] = [job for job in periodic.JOBS if job.name == "purge_trashed_projects"]
    assert job.every == timedelta(hours=1)
    assert job.function == "projects.services.projects_purge_expired"


def test_runs_cannot_move_into_a_project_in_the_trash(alice, resnet, bert):
    RunFactory(project=resnet, run_id="a")
    stale = Project.objects.get(name="bert")
    trash(bert, alice)

    with pytest.raises(RunsError, match="in the trash"):
        runs_move(actor=alice, source=resnet, runs=Run.objects.all(), target=stale)
    assert list(Run.objects.values_list("project__name", flat=True)) == ["resnet"]


# Pages: the trash, restore, delete forever


def test_the_trash_page_lists_what_each_member_may_do(client, alice, bob, resnet, bert):
    RunFactory(project=bert, run_id="a")
    trash(resnet, alice)
    trash(bert, bob)

    login(client, bob)
    response = client.get(TRASH)
    assert response.status_code == 200
    rows = {p.name: p for p in response.context["projects"]}
    assert set(rows) == {"resnet", "bert"}
    assert (rows["bert"].trashed_by, rows["bert"].run_count) == (bob, 1)
    assert (
        rows["bert"].purge_on.date()
        == (rows["bert"].trashed_at + timedelta(days=settings.TRASH_RETENTION_DAYS)).date()
    )
    body = response.text
    assert RESTORE.format("bert") in body
    assert RESTORE.format("resnet") not in body  # alice's project
    assert "Delete forever" not in body

    login(client, alice)
    body = client.get(TRASH).text
    assert RESTORE.format("bert") in body and RESTORE.format("resnet") in body
    assert FOREVER.format("resnet") in body


def test_the_entity_page_leaves_out_the_trash_and_links_to_it(client, alice, resnet, bert):
    trash(resnet, alice)
    login(client, alice)
    response = client.get("/example-team/")
    assert [p.name for p in response.context["projects"]] == ["bert"]
    assert f'href="{TRASH}"' in response.text


def test_the_settings_page_offers_the_trash(client, alice, resnet):
    login(client, alice)
    body = client.get("/example-team/resnet/settings/").text
    assert "Move to trash" in body
    assert f"for {settings.TRASH_RETENTION_DAYS} days" in body
    assert f'href="{TRASH}"' in body


@pytest.mark.parametrize("count", [1, 10])
def test_the_trash_page_costs_the_same_queries_for_1_or_10_projects(
    client, alice, team, count, django_assert_num_queries
):
    for n in range(count):
        project = ProjectFactory(entity=team, creator=alice, name=f"p{n}")
        RunFactory(project=project)
        trash(project, alice)
    login(client, alice)
    client.get(TRASH)  # the session and permission caches warm up alike for both counts
    with django_assert_num_queries(5):
        response = client.get(TRASH)
    assert len(response.context["projects"]) == count


def test_the_trash_page_is_for_those_who_see_the_entity(client, alice, charlie, resnet):
    trash(resnet, alice)
    login(client, charlie)
    assert client.get(TRASH).status_code == 404
    assert client.get("/alice/projects/trash/").status_code == 404
    login(client, None)
    assert_sent_to_login(client.get(TRASH), TRASH)
    login(client, alice)  # a personal entity's trash is its owner's
    assert client.get("/alice/projects/trash/").status_code == 200


@pytest.mark.parametrize(("who", "project"), [("alice", "bert"), ("bob", "bert")])
def test_admin_and_creator_restore_a_project(client, alice, bob, bert, who, project):
    RunFactory(project=bert, run_id="a")
    trash(bert, bob)
    login(client, {"alice": alice, "bob": bob}[who])

    response = client.post(RESTORE.format(project))

    assert response.status_code == 302
    assert response.url == "/example-team/bert/"
    assert messages_of(response) == ["Project example-team/bert and its runs were restored."]
    assert client.get("/example-team/bert/").status_code == 200
    assert run_ids() == ["a"] and Run.objects.count() == 1


def test_restore_refuses_everyone_else(client, alice, bob, charlie, resnet):
    trash(resnet, alice)
    url = RESTORE.format("resnet")
    login(client, bob)  # a member, not its creator
    assert client.post(url).status_code == 403
    login(client, charlie)
    assert client.post(url).status_code == 404
    login(client, None)
    assert_sent_to_login(client.post(url), url)
    login(client, alice)
    assert client.get(url).status_code == 405
    assert client.post(RESTORE.format("no-such")).status_code == 404
    assert in_trash("resnet").trashed_at is not None
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.PROJECT_RESTORED).exists()


def test_a_project_in_the_trash_answers_404(client, alice, resnet):
    trash(resnet, alice)
    login(client, alice)
    for url in ["/example-team/resnet/", "/example-team/resnet/settings/"]:
        assert client.get(url).status_code == 404
    assert client.post("/example-team/resnet/settings/delete/").status_code == 404


def test_the_client_sees_no_project_in_the_trash(client, alice, bob, resnet, bert):
    from api.tests.test_graphql import gql, ok
    from api.tests.test_graphql_projects import GET_PROJECT, listing

    trash(resnet, alice)
    key = api_key_for(bob)
    variables = {"name": "resnet", "entity": "example-team"}

    assert ok(gql(client, key, None, variables, query=GET_PROJECT))["project"] is None
    assert listing(client, key, "example-team")[0] == ["bert"]


def test_admin_deletes_a_project_forever_with_its_name(client, alice, resnet):
    RunFactory(project=resnet, run_id="a")
    trash(resnet, alice)
    login(client, alice)

    wrong = client.post(FOREVER.format("resnet"), {"confirm_name": "RESNET"})
    assert wrong.status_code == 302
    assert messages_of(wrong) == ["Type the project's name, resnet, to delete it for good."]
    assert Project.with_trashed.filter(name="resnet").exists()

    response = client.post(FOREVER.format("resnet"), {"confirm_name": "resnet"})

    assert response.status_code == 302
    assert response.url == TRASH
    assert not Project.with_trashed.filter(name="resnet").exists()
    assert not Run.with_trashed.exists()
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.PROJECT_PURGED)
    assert (event.actor, event.target, event.details) == (alice, "resnet", {"runs": 1})


def test_delete_forever_is_for_admins_only(client, alice, bob, charlie, bert):
    trash(bert, bob)
    url = FOREVER.format("bert")
    login(client, bob)  # its creator
    assert client.post(url, {"confirm_name": "bert"}).status_code == 403
    login(client, charlie)
    assert client.post(url, {"confirm_name": "bert"}).status_code == 404
    with pytest.raises(services.ProjectError):
        services.project_delete_forever(project=in_trash("bert"), actor=bob, confirm_name="bert")
    assert Project.with_trashed.filter(name="bert").exists()
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.PROJECT_PURGED).exists()


def test_a_live_project_cannot_be_deleted_forever(client, alice, resnet):
    login(client, alice)
    assert client.post(FOREVER.format("resnet"), {"confirm_name": "resnet"}).status_code == 404
    assert Project.objects.filter(name="resnet").exists()


# The name stays taken


CLASH = "A project named resnet is in the trash; restore it or delete it for good first."


@pytest.mark.parametrize("name", ["resnet", "ResNet"])
def test_the_new_project_form_refuses_the_name_of_a_project_in_the_trash(
    client, alice, resnet, name
):
    trash(resnet, alice)
    login(client, alice)

    response = client.post(
        "/projects/new/", {"entity": "example-team", "name": name, "visibility": "team"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [CLASH]
    assert Project.with_trashed.count() == 1


def test_the_clients_create_project_refuses_the_name_of_a_project_in_the_trash(
    client, alice, bob, resnet
):
    from api.tests.test_graphql import refused
    from api.tests.test_graphql_projects import create

    trash(resnet, alice)

    assert refused(create(client, api_key_for(bob), "resnet", "example-team"), 400) == CLASH
    assert Project.with_trashed.count() == 1


def test_logging_a_run_to_a_project_in_the_trash_is_refused(client, alice, bob, resnet):
    from api.tests.test_graphql import core_upsert

    trash(resnet, alice)

    response = core_upsert(client, api_key_for(bob), project="resnet", name="newrun")

    assert 400 <= response.status_code < 500
    assert CLASH in response.json()["errors"][0]["message"]
    assert not Run.with_trashed.filter(run_id="newrun").exists()
    assert Project.with_trashed.count() == 1


def test_restoring_gives_the_name_back(client, alice, resnet):
    trash(resnet, alice)
    services.project_delete_forever(project=in_trash("resnet"), actor=alice, confirm_name="resnet")
    again = services.project_create(entity=resnet.entity, name="resnet", creator=alice)
    assert again.trashed_at is None


# Lists reached through a join leave the trash out


def test_the_registry_leaves_out_versions_logged_in_a_project_in_the_trash(
    alice, team, resnet, bert
):
    registry = ProjectFactory(entity=team, creator=alice, name="model-registry")
    portfolio = ArtifactCollection.objects.create(
        project=registry, name="classifier", type="model", kind=ArtifactCollection.Kind.PORTFOLIO
    )
    for index, project in enumerate([resnet, bert]):
        collection = ArtifactCollection.objects.create(project=project, name="m", type="model")
        artifact = Artifact.objects.create(
            collection=collection, version_index=0, digest=f"d{index}", state="COMMITTED"
        )
        ArtifactLink.objects.create(
            portfolio=portfolio, artifact=artifact, version_index=index, linked_by=alice
        )
    trash(resnet, alice)

    links = registered_model_versions(portfolio, alice)
    assert [link.artifact.collection.project.name for link in links] == ["bert"]
    assert registered_models(registry, alice).get().link_count == 1


def test_reports_of_a_project_in_the_trash_are_not_listed(alice, resnet, bert):
    report_create(project=resnet, title="Gone", actor=alice)
    report_create(project=bert, title="Kept", actor=alice)
    trash(resnet, alice)
    assert [report.title for report in reports_readable_by(alice)] == ["Kept"]


def test_a_share_link_of_a_report_in_a_project_in_the_trash_stops_working(alice, resnet):
    from reports import share
    from reports.services import report_publish

    report = report_create(project=resnet, title="Shared", actor=alice)
    report_publish(report=report, actor=alice)
    _, token = share.share_link_create(report=report, actor=alice)
    assert share.active_link(token) is not None

    trash(resnet, alice)

    assert share.active_link(token) is None
    services.project_restore(project=in_trash("resnet"), actor=alice)
    assert share.active_link(token) is not None
