"""Runs that stop sending heartbeats are shown crashed without a cron job: reading a project's
runs (run page, runs table) marks its quiet runs crashed. The demo data holds no run that looks
stuck."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from runs.models import Run
from runs.services import project_check_quiet_runs
from tests.factories import ProjectFactory, RunFactory

TIMEOUT = 600


@pytest.fixture(autouse=True)
def _timeout(settings):
    settings.RUN_HEARTBEAT_TIMEOUT = TIMEOUT


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


def running(project, author, run_id, seconds_quiet):
    return RunFactory(
        project=project,
        author=author,
        run_id=run_id,
        state=Run.State.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=seconds_quiet),
    )


def state_badge(html):
    return html.split('id="run-state">', 1)[1].split("<", 1)[0]


def test_a_quiet_run_shows_crashed_on_its_page(client, bob, alice, resnet):
    quiet = running(resnet, alice, "quiet", TIMEOUT + 60)
    client.force_login(bob)

    html = client.get(quiet.get_absolute_url()).content.decode()

    assert state_badge(html) == "Crashed"
    quiet.refresh_from_db()
    assert quiet.state == Run.State.CRASHED


def test_a_run_with_a_fresh_heartbeat_stays_running(client, bob, alice, resnet):
    live = running(resnet, alice, "live", 30)
    client.force_login(bob)

    html = client.get(live.get_absolute_url()).content.decode()

    assert state_badge(html) == "Running"
    live.refresh_from_db()
    assert live.state == Run.State.RUNNING


def test_the_runs_table_shows_quiet_runs_crashed(client, bob, alice, resnet):
    running(resnet, alice, "quiet", TIMEOUT + 60)
    running(resnet, alice, "live", 30)
    client.force_login(bob)

    response = client.get(f"/{resnet.path}/")

    assert {run.run_id: run.state for run in response.context["page"].runs} == {
        "quiet": Run.State.CRASHED,
        "live": Run.State.RUNNING,
    }


def test_the_check_marks_only_its_projects_quiet_runs(alice, resnet, team):
    other = ProjectFactory(entity=team, creator=alice, name="other")
    running(resnet, alice, "a", TIMEOUT + 60)
    running(other, alice, "b", TIMEOUT + 60)

    assert project_check_quiet_runs(project=resnet) == 1
    assert project_check_quiet_runs(project=resnet) == 0

    assert Run.objects.get(run_id="b").state == Run.State.RUNNING


def test_the_check_costs_one_query_when_nothing_is_quiet(alice, resnet, django_assert_num_queries):
    running(resnet, alice, "live", 30)

    with django_assert_num_queries(1):
        assert project_check_quiet_runs(project=resnet) == 0


def test_mark_crashed_runs_command_marks_every_project(alice, resnet, team, capsys):
    other = ProjectFactory(entity=team, creator=alice, name="other")
    running(resnet, alice, "a", TIMEOUT + 60)
    running(other, alice, "b", TIMEOUT + 60)
    running(other, alice, "c", 10)

    call_command("mark_crashed_runs")

    assert "Marked 2 runs crashed" in capsys.readouterr().out
    assert set(Run.objects.filter(state=Run.State.RUNNING).values_list("run_id", flat=True)) == {
        "c"
    }


def test_demo_data_has_no_stuck_runs_and_recent_timestamps(db):
    call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    now = timezone.now()
    runs = Run.objects.all()

    stale = now - timedelta(seconds=TIMEOUT)
    assert not runs.filter(state=Run.State.RUNNING, heartbeat_at__lt=stale).exists()
    assert not runs.filter(created_at__gt=now).exists()
    assert not runs.filter(finished_at__gt=now).exists()
    assert not runs.filter(heartbeat_at__gt=now).exists()
    # The latest runs are recent; finished and failed runs have their end.
    assert now - runs.order_by("-created_at").first().created_at < timedelta(days=1)
    ended = runs.filter(state__in=[Run.State.FINISHED, Run.State.FAILED])
    assert not ended.filter(finished_at=None).exists()
    assert set(runs.values_list("state", flat=True)) >= {
        Run.State.FINISHED,
        Run.State.FAILED,
        Run.State.CRASHED,
    }
