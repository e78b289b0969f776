"""The run trash: deleting moves runs to their project's trash, their author (while a member)
or an admin restores them, the periodic job purges them after TRASH_RETENTION_DAYS, admins
delete them for good sooner; every step audited; the trash page.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider), sam (the team's service account)."""

import json
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import periodic
from runs import services, trash
from runs.ingest import HISTORY_FILE, apply_file_stream, parse_file_stream
from runs.models import Point, Run, RunKey, RunValue
from runs.services import RunIdClash, RunsError, RunsForbidden
from runs.tracking import run_upsert
from teams.models import AuditEvent, Membership
from teams.services import membership_remove
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def resnet(team, alice, bob):
    """example-team/resnet: alice's runs a1, a2 and bob's runs b1, b2."""
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    for run_id, author in [("a1", alice), ("a2", alice), ("b1", bob), ("b2", bob)]:
        RunFactory(
            project=project, run_id=run_id, author=author, config={"lr": 0.1}, summary={"acc": 1}
        )
    return project


def trash_runs(actor, project, *run_ids):
    runs = Run.objects.filter(project=project, run_id__in=run_ids)
    return services.runs_delete(actor=actor, project=project, runs=runs)


def in_trash(project):
    return list(trash.in_trash(project).values_list("run_id", flat=True))


def live(project):
    return sorted(Run.objects.filter(project=project).values_list("run_id", flat=True))


def events(verb):
    return list(AuditEvent.objects.filter(verb=verb).values_list("actor__username", "details"))


def send_history(run, rows):
    payload = {"files": {HISTORY_FILE: {"offset": 0, "content": [json.dumps(r) for r in rows]}}}
    apply_file_stream(run, parse_file_stream(payload))


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# Services


def test_deleting_moves_runs_to_the_trash_and_audits_it(resnet, bob):
    assert trash_runs(bob, resnet, "b1") == 1

    run = Run.with_trashed.get(run_id="b1")
    assert run.trashed_at is not None and run.trashed_by == bob
    assert live(resnet) == ["a1", "a2", "b2"]
    assert in_trash(resnet) == ["b1"]
    assert events(AuditEvent.Verb.RUNS_DELETED) == [("bob", {"count": 1})]


def test_trashing_takes_runs_out_of_the_index_and_restoring_puts_them_back(resnet, alice):
    trash_runs(alice, resnet, "a1")
    trashed = Run.with_trashed.get(run_id="a1")
    assert not RunValue.objects.filter(run=trashed).exists()

    trash.runs_restore(actor=alice, project=resnet, runs=trash.in_trash(resnet))

    assert RunValue.objects.filter(run=trashed).count() == 2  # lr and acc


def test_member_cannot_trash_someone_elses_run(resnet, bob):
    with pytest.raises(RunsForbidden):
        trash_runs(bob, resnet, "a1")
    assert in_trash(resnet) == []


def test_author_restores_own_run_while_a_member(resnet, bob):
    trash_runs(bob, resnet, "b1")

    restored = trash.runs_restore(actor=bob, project=resnet, runs=trash.in_trash(resnet))

    assert restored == 1
    assert live(resnet) == ["a1", "a2", "b1", "b2"]
    run = Run.objects.get(run_id="b1")
    assert run.trashed_at is None and run.trashed_by is None
    assert events(AuditEvent.Verb.RUNS_RESTORED) == [("bob", {"count": 1})]


def test_another_member_cannot_restore_a_run(resnet, alice, bob):
    trash_runs(alice, resnet, "a1")

    with pytest.raises(RunsForbidden, match="only restore runs you logged"):
        trash.runs_restore(actor=bob, project=resnet, runs=trash.in_trash(resnet))

    assert in_trash(resnet) == ["a1"]
    assert events(AuditEvent.Verb.RUNS_RESTORED) == []


def test_restoring_is_all_or_nothing(resnet, alice, bob):
    trash_runs(alice, resnet, "a1", "b1")

    with pytest.raises(RunsForbidden):
        trash.runs_restore(actor=bob, project=resnet, runs=trash.in_trash(resnet))

    assert sorted(in_trash(resnet)) == ["a1", "b1"]


def test_admin_restores_anyones_run(resnet, alice, bob):
    trash_runs(bob, resnet, "b1")

    assert trash.runs_restore(actor=alice, project=resnet, runs=trash.in_trash(resnet)) == 1
    assert in_trash(resnet) == []


def test_author_who_left_the_team_cannot_restore(resnet, team, alice, bob):
    trash_runs(bob, resnet, "b1")
    membership_remove(membership=Membership.objects.get(entity=team, user=bob), actor=alice)

    with pytest.raises(RunsError):
        trash.runs_restore(actor=bob, project=resnet, runs=trash.in_trash(resnet))
    assert in_trash(resnet) == ["b1"]


def test_service_account_cannot_restore(resnet, alice, sam):
    trash_runs(alice, resnet, "a1")

    with pytest.raises(RunsForbidden):
        trash.runs_restore(actor=sam, project=resnet, runs=trash.in_trash(resnet))


def test_restoring_nothing_is_refused(resnet, alice):
    with pytest.raises(RunsError, match="No runs in the trash"):
        trash.runs_restore(actor=alice, project=resnet, runs=Run.with_trashed.all())


def test_runs_trashed_with_their_project_are_not_in_the_runs_trash(resnet, alice):
    Run.objects.filter(run_id="a1").update(
        trashed_at=timezone.now(), trashed_by=alice, trashed_with_project=True
    )

    assert in_trash(resnet) == []
    with pytest.raises(RunsError):
        trash.runs_restore(actor=alice, project=resnet, runs=Run.with_trashed.all())


def test_purge_deletes_runs_after_the_retention_with_their_points(resnet, alice, settings):
    run = Run.objects.get(run_id="a1")
    send_history(run, [{"_step": 0, "loss": 1.0}, {"_step": 1, "loss": 0.5}])
    assert Point.objects.filter(run_id=run.pk).count() == 2
    trash_runs(alice, resnet, "a1")
    trashed_at = Run.with_trashed.get(run_id="a1").trashed_at
    retention = timedelta(days=settings.TRASH_RETENTION_DAYS)

    assert trash.runs_purge_expired(now=trashed_at + retention - timedelta(minutes=1)) == 0
    assert in_trash(resnet) == ["a1"]

    assert trash.runs_purge_expired(now=trashed_at + retention + timedelta(minutes=1)) == 1

    assert not Run.with_trashed.filter(run_id="a1").exists()
    assert not Point.objects.filter(run_id=run.pk).exists()
    assert not RunKey.objects.filter(run_id=run.pk).exists()
    assert events(AuditEvent.Verb.RUNS_PURGED) == [(None, {"count": 1})]
    assert AuditEvent.objects.get(verb=AuditEvent.Verb.RUNS_PURGED).target == resnet.path
    assert live(resnet) == ["a2", "b1", "b2"]


def test_purge_follows_the_retention_setting(resnet, alice, settings):
    settings.TRASH_RETENTION_DAYS = 2
    trash_runs(alice, resnet, "a1")

    assert trash.runs_purge_expired(now=timezone.now() + timedelta(days=1)) == 0
    assert trash.runs_purge_expired(now=timezone.now() + timedelta(days=3)) == 1


def test_purge_leaves_runs_trashed_with_their_project_to_the_project(resnet, alice):
    long_ago = timezone.now() - timedelta(days=400)
    Run.objects.filter(run_id="a1").update(trashed_at=long_ago, trashed_with_project=True)

    assert trash.runs_purge_expired() == 0
    assert Run.with_trashed.filter(run_id="a1").exists()


def test_the_purge_is_a_periodic_job():
    job = next(job for job in periodic.JOBS if job.name == "purge_trashed_runs")
    assert job.every == timedelta(hours=1)
    assert job.run() == 0


def test_only_admins_delete_runs_for_good(resnet, alice, bob):
    trash_runs(bob, resnet, "b1")

    with pytest.raises(RunsForbidden, match="Only admins"):
        trash.runs_delete_forever(actor=bob, project=resnet, runs=trash.in_trash(resnet))
    assert in_trash(resnet) == ["b1"]

    assert trash.runs_delete_forever(actor=alice, project=resnet, runs=trash.in_trash(resnet)) == 1
    assert not Run.with_trashed.filter(run_id="b1").exists()
    assert events(AuditEvent.Verb.RUNS_PURGED) == [("alice", {"count": 1})]


def test_delete_forever_touches_only_runs_in_the_trash(resnet, alice):
    with pytest.raises(RunsError):
        trash.runs_delete_forever(actor=alice, project=resnet, runs=Run.objects.all())
    assert live(resnet) == ["a1", "a2", "b1", "b2"]


def test_a_trashed_run_id_cannot_be_logged_again(resnet, alice):
    trash_runs(alice, resnet, "a1")

    with pytest.raises(RunsError, match="was previously created and deleted"):
        run_upsert(
            actor=alice,
            entity_name="example-team",
            project_name="resnet",
            run_id="a1",
            username=None,
            fields={},
        )
    assert Run.with_trashed.filter(run_id="a1").count() == 1


def test_moving_onto_a_run_id_in_the_targets_trash_is_a_clash(resnet, team, alice):
    other = ProjectFactory(entity=team, creator=alice, name="other")
    RunFactory(project=other, run_id="a1", author=alice)
    trash_runs(alice, other, "a1")

    with pytest.raises(
        RunIdClash, match=r"already has runs with these ids \(some in its trash\): a1"
    ):
        services.runs_move(
            actor=alice, source=resnet, runs=Run.objects.filter(run_id="a1"), target=other
        )
    assert live(resnet) == ["a1", "a2", "b1", "b2"]


# Pages


def trash_url(project):
    return f"/{project.path}/trash/"


def test_trash_page_lists_what_was_deleted_by_whom_and_until_when(client, resnet, alice, bob):
    trash_runs(bob, resnet, "b1")
    trash_runs(alice, resnet, "a1")
    Run.objects.filter(run_id="a2").update(trashed_at=timezone.now(), trashed_with_project=True)
    client.force_login(bob)

    response = client.get(trash_url(resnet))

    assert response.status_code == 200
    body = response.content.decode()
    # Newest first; the run trashed with its project is not here.
    assert body.index('data-run-id="a1"') < body.index('data-run-id="b1"')
    assert 'data-run-id="a2"' not in body
    purge = (Run.with_trashed.get(run_id="b1").trashed_at + timedelta(days=30)).date()
    assert f">{purge:%Y-%m-%d}</td>" in body
    # bob may restore his own run, not alice's; he is not an admin.
    assert 'value="b1"' in body and 'value="a1"' not in body
    assert 'id="restore-runs"' in body and 'id="delete-forever"' not in body


def test_admin_sees_delete_forever(client, resnet, alice):
    trash_runs(alice, resnet, "a1")
    client.force_login(alice)

    body = client.get(trash_url(resnet)).content.decode()

    assert 'id="delete-forever"' in body and 'value="a1"' in body


def test_outsider_gets_404_on_a_private_projects_trash(client, resnet, charlie):
    client.force_login(charlie)
    assert client.get(trash_url(resnet)).status_code == 404
    response = client.post(f"{trash_url(resnet)}restore/", {"run": ["a1"]})
    assert response.status_code == 404


def test_public_projects_trash_is_read_only_for_visitors(client, public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    RunFactory(project=project, run_id="o1", author=alice)
    trash_runs(alice, project, "o1")

    body = client.get(trash_url(project)).content.decode()

    assert 'data-run-id="o1"' in body
    assert "<form" in body and 'id="restore-runs"' not in body and 'name="run"' not in body
    response = client.post(f"{trash_url(project)}restore/", {"run": ["o1"]})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert in_trash(project) == ["o1"]


def test_member_restores_own_run_from_the_page(client, resnet, bob):
    trash_runs(bob, resnet, "b1")
    client.force_login(bob)

    response = client.post(f"{trash_url(resnet)}restore/", {"run": ["b1"]})

    assert response.status_code == 302 and response["Location"] == trash_url(resnet)
    assert messages_of(response) == ["Restored 1 run."]
    assert live(resnet) == ["a1", "a2", "b1", "b2"]


def test_member_restoring_someone_elses_run_is_refused_with_a_message(client, resnet, alice, bob):
    trash_runs(alice, resnet, "a1")
    client.force_login(bob)

    response = client.post(f"{trash_url(resnet)}restore/", {"run": ["a1"]})

    assert response.status_code == 302
    assert "only restore runs you logged" in messages_of(response)[0]
    assert in_trash(resnet) == ["a1"]


def test_restore_is_post_only(client, resnet, bob):
    client.force_login(bob)
    assert client.get(f"{trash_url(resnet)}restore/").status_code == 405


def test_member_gets_403_on_delete_forever(client, resnet, bob):
    trash_runs(bob, resnet, "b1")
    client.force_login(bob)

    response = client.post(f"{trash_url(resnet)}delete-forever/", {"run": ["b1"], "confirm": "1"})

    assert response.status_code == 403
    assert in_trash(resnet) == ["b1"]


def test_admin_deletes_for_good_after_confirming(client, resnet, alice):
    trash_runs(alice, resnet, "a1", "a2")
    client.force_login(alice)
    url = f"{trash_url(resnet)}delete-forever/"

    confirm = client.post(url, {"run": ["a1"]})

    assert confirm.status_code == 200
    assert "Delete 1 run for good?" in confirm.content.decode()
    assert sorted(in_trash(resnet)) == ["a1", "a2"]

    response = client.post(url, {"run": ["a1"], "confirm": "1"})

    assert messages_of(response) == ["Deleted 1 run for good."]
    assert in_trash(resnet) == ["a2"]
    assert not Run.with_trashed.filter(run_id="a1").exists()


def test_trash_page_costs_the_same_queries_for_1_and_20_runs(client, team, alice, bob):
    project = ProjectFactory(entity=team, creator=alice, name="big")
    client.force_login(bob)

    def queries_with(n):
        Run.with_trashed.filter(project=project).delete()
        for _ in range(n):
            RunFactory(project=project, author=bob)
        services.runs_delete(actor=bob, project=project, runs=Run.objects.filter(project=project))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(trash_url(project))
        assert response.content.decode().count("data-run-id=") == n
        return len(captured)

    assert queries_with(1) == queries_with(20)


def test_project_page_links_to_the_trash_with_its_count(client, resnet, alice):
    client.force_login(alice)
    body = client.get(f"/{resnet.path}/").content.decode()
    assert f'href="{trash_url(resnet)}" id="trash-link">Trash</a>' in body

    trash_runs(alice, resnet, "a1", "a2")

    body = client.get(f"/{resnet.path}/").content.decode()
    assert f'href="{trash_url(resnet)}" id="trash-link">Trash (2)</a>' in body


def test_delete_confirmation_says_move_to_trash_and_restorable(client, resnet, alice):
    client.force_login(alice)

    body = client.post(f"/{resnet.path}/delete-runs/", {"run": ["a1"]}).content.decode()

    assert "Move 1 run to the trash?" in body
    assert "within 30 days" in body


def test_a_trashed_runs_page_says_where_it_went_and_offers_restore(client, resnet, bob, alice):
    trash_runs(bob, resnet, "b1")
    client.force_login(bob)

    response = client.get(f"/{resnet.path}/runs/b1/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "is in the trash" in body and 'id="restore-run"' in body

    restored = client.post(f"{trash_url(resnet)}restore/", {"run": "b1", "from_run_page": "1"})

    assert restored["Location"] == f"/{resnet.path}/runs/b1/"
    assert client.get(restored["Location"]).status_code == 200


def test_a_trashed_runs_page_offers_no_restore_to_other_members(client, resnet, alice, bob):
    trash_runs(alice, resnet, "a1")
    client.force_login(bob)

    response = client.get(f"/{resnet.path}/runs/a1/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "is in the trash" in body and 'id="restore-run"' not in body


def test_outsider_gets_a_plain_404_for_a_trashed_run(client, resnet, alice, charlie):
    trash_runs(alice, resnet, "a1")
    client.force_login(charlie)

    response = client.get(f"/{resnet.path}/runs/a1/")

    assert response.status_code == 404
    assert "in the trash" not in response.content.decode()


def test_the_django_admin_lists_runs_in_the_trash(client, resnet, alice):
    trash_runs(alice, resnet, "a1")
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client.force_login(alice)

    body = client.get("/admin/runs/run/", {"trashed_at__isempty": "0"}).content.decode()

    assert ">a1<" in body and ">a2<" not in body
