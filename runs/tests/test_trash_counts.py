"""Runs in the trash leave what the site counts and charts: the runs table and its count (also
sorted, filtered and grouped through the index of values), the project's charts, compare, the
leaderboard, search, recent alerts; restoring brings them back."""

import json

import pytest

from runs import services, trash
from runs.ingest import HISTORY_FILE, apply_file_stream, parse_file_stream
from runs.models import Alert, Run
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(team, alice):
    """example-team/resnet: kept (acc 0.5) and gone (acc 0.9, the best), both logging loss."""
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    for run_id, acc in [("kept", 0.5), ("gone", 0.9)]:
        run = RunFactory(
            project=project,
            run_id=run_id,
            name=run_id,
            author=alice,
            config={"lr": acc / 10},
            summary={"acc": acc},
        )
        rows = [json.dumps({"_step": step, "loss": acc + step}) for step in range(3)]
        apply_file_stream(
            run, parse_file_stream({"files": {HISTORY_FILE: {"offset": 0, "content": rows}}})
        )
        Alert.objects.create(run=run, title=f"alert of {run_id}", text="text")
    return project


@pytest.fixture
def trashed(project, alice):
    services.runs_delete(
        actor=alice, project=project, runs=Run.objects.filter(project=project, run_id="gone")
    )


def table(client, project, **params):
    response = client.get(f"/{project.path}/", params)
    assert response.status_code == 200
    return response


def shown(response):
    return [run.run_id for run in response.context["page"].runs]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "-summary.acc"},
        {"q": "summary.acc > 0.1"},
        {"q": "summary.acc > 0.1 or config.lr > 0"},
        {"q": "gone"},
    ],
)
def test_the_runs_table_and_its_count_leave_trashed_runs_out(
    client, project, trashed, alice, params
):
    client.force_login(alice)

    response = table(client, project, **params)

    assert shown(response) == ["kept"] or (params.get("q") == "gone" and shown(response) == [])
    assert response.context["page"].total == len(shown(response))
    body = response.content.decode()
    assert 'data-run-id="gone"' not in body
    assert "alert of gone" not in body and "alert of kept" in body


def test_grouping_leaves_trashed_runs_out(client, project, trashed, alice):
    client.force_login(alice)

    response = table(client, project, group="config.lr")

    rows = response.context["grouping"].rows
    assert sum(row["count"] for row in rows) == 1


def test_restoring_brings_the_run_back_to_the_sorted_table(client, project, trashed, alice):
    trash.runs_restore(actor=alice, project=project, runs=trash.in_trash(project))
    client.force_login(alice)

    response = table(client, project, sort="-summary.acc")

    assert shown(response) == ["gone", "kept"]
    assert response.context["page"].total == 2


def test_project_chart_leaves_trashed_runs_out(client, project, trashed, alice):
    client.force_login(alice)

    response = client.get(f"/{project.path}/metric/", {"key": "loss", "run": ["kept", "gone"]})

    assert [series["run_id"] for series in response.json()["series"]] == ["kept"]


def test_workspace_keys_come_from_live_runs_only(client, team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="keys")
    for run_id, key in [("kept", "loss"), ("gone", "only_in_trash")]:
        run = RunFactory(project=project, run_id=run_id, author=alice)
        rows = [json.dumps({"_step": 0, key: 1.0})]
        apply_file_stream(
            run, parse_file_stream({"files": {HISTORY_FILE: {"offset": 0, "content": rows}}})
        )
    services.runs_delete(
        actor=alice, project=project, runs=Run.objects.filter(project=project, run_id="gone")
    )
    client.force_login(alice)

    response = client.get(f"/{project.path}/")

    assert "only_in_trash" not in response.content.decode()
    assert "loss" in response.context["panels"]


def test_compare_leaves_trashed_runs_out(client, project, trashed, alice):
    RunFactory(project=project, run_id="third", author=alice)
    client.force_login(alice)

    response = client.get(f"/{project.path}/compare/", {"run": ["kept", "gone", "third"]})

    # As for a run that was never there.
    assert response.status_code == 400
    assert "This project has no run gone." in response.content.decode()
    response = client.get(f"/{project.path}/compare/", {"run": ["kept", "third"]})
    assert [run.run_id for run in response.context["runs"]] == ["kept", "third"]


def test_leaderboard_leaves_trashed_runs_out(client, project, trashed, alice):
    client.force_login(alice)

    response = client.get(f"/{project.path}/leaderboard/", {"metric": "summary.acc"})

    assert response.status_code == 200
    body = response.content.decode()
    assert ">kept<" in body and ">gone<" not in body


def test_search_leaves_trashed_runs_out(client, project, trashed, alice):
    client.force_login(alice)

    body = client.get("/search/", {"q": "gone"}).content.decode()
    assert f"/{project.path}/runs/gone/" not in body
    body = client.get("/search/", {"q": "kept"}).content.decode()
    assert f"/{project.path}/runs/kept/" in body
