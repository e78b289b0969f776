"""The workspace charts of a grouped table (`metric/groups/`): per group, the mean of its latest
runs at each step over a band from their lowest to their highest value, computed by the
database; filters and step ranges honoured, long series bucketed, bad requests refused, and a
fixed number of queries."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from runs import grouping_views
from runs.ingest import HISTORY_FILE, apply_file_stream, parse_file_stream
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

TAG_SETS = [["baseline"], ["v2", "sweep"], [], ["sweep"]]
T0 = timezone.now() - timedelta(days=1)


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


def send(run, rows):
    payload = {"files": {HISTORY_FILE: {"offset": 0, "content": [json.dumps(r) for r in rows]}}}
    apply_file_stream(run, parse_file_stream(payload))


def chart_url(project):
    return reverse("runs:project_metric_groups", args=[project.entity.name, project.name])


def test_grouped_chart_is_the_mean_and_band_of_each_groups_runs(client, bob, project, alice):
    curves = {"adam": [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0], [2.0, 0.0, 4.0]], "sgd": [[10.0, 20.0]]}
    index = 0
    for optimizer, losses in curves.items():
        for loss in losses:
            run = RunFactory(
                project=project, author=alice, run_id=f"r{index}", config={"opt": optimizer}
            )
            send(run, [{"_step": step, "loss": value} for step, value in enumerate(loss)])
            index += 1
    client.force_login(bob)

    data = client.get(chart_url(project), {"key": "loss", "group": "config.opt"}).json()

    adam, sgd = data["groups"]
    assert (adam["label"], adam["count"], adam["charted"]) == ("adam", 3, 3)
    assert adam["step"] == [0, 1, 2]
    assert adam["mean"] == pytest.approx([2.0, 2.0, 4.0])
    assert adam["min"] == [1.0, 0.0, 3.0] and adam["max"] == [3.0, 4.0, 5.0]
    assert (sgd["label"], sgd["count"], sgd["mean"]) == ("sgd", 1, [10.0, 20.0])
    assert "One line per group" in data["note"]


def test_grouped_chart_honours_the_filter_and_the_step_range(client, bob, project, alice):
    for index in range(4):
        run = RunFactory(
            project=project,
            author=alice,
            run_id=f"r{index}",
            state="finished" if index % 2 else "failed",
            job_type="train",
        )
        send(run, [{"_step": step, "loss": float(index)} for step in range(10)])
    client.force_login(bob)

    data = client.get(
        chart_url(project),
        {"key": "loss", "group": "job_type", "state": "finished", "min": 2, "max": 4},
    ).json()

    (train,) = data["groups"]
    assert train["count"] == 2 and train["step"] == [2, 3, 4]
    assert train["mean"] == [2.0, 2.0, 2.0] and train["min"] == [1.0] * 3


def test_grouped_chart_buckets_long_series(client, bob, project, alice):
    run = RunFactory(project=project, author=alice, run_id="long", job_type="train")
    send(run, [{"_step": step, "loss": float(step)} for step in range(1000)])
    client.force_login(bob)

    data = client.get(chart_url(project), {"key": "loss", "group": "job_type"}).json()

    (train,) = data["groups"]
    assert len(train["step"]) == 250
    assert train["min"][0] == 0.0 and train["max"][-1] == 999.0


@pytest.mark.parametrize(
    "params",
    [
        {"group": "job_type"},
        {"key": "loss"},
        {"key": "loss", "group": "name"},
        {"key": "loss", "group": "job_type", "min": "x"},
    ],
)
def test_grouped_chart_refuses_bad_requests_with_400(client, bob, project, params):
    client.force_login(bob)
    response = client.get(chart_url(project), params)
    assert response.status_code == 400 and "error" in response.json()


@pytest.mark.parametrize("size", [3, 30])
def test_grouped_chart_costs_fixed_queries(
    client, bob, project, alice, size, django_assert_num_queries
):
    for index in range(size):
        run = RunFactory(
            project=project,
            author=alice,
            run_id=f"r{index}",
            tags=TAG_SETS[index % 4],
            config={"lr": index % 3},
        )
        send(run, [{"_step": step, "loss": float(step + index)} for step in range(5)])
    client.force_login(bob)
    params = {"key": "loss", "group": ["config.lr", "tags"]}
    client.get(chart_url(project), params)
    # Session, user, project, permissions; the groups, the metric's id, its steps, its values.
    with django_assert_num_queries(GROUPED_CHART_QUERIES):
        response = client.get(chart_url(project), params)
    assert response.json()["groups"][0]["step"] == [0, 1, 2, 3, 4]


GROUPED_CHART_QUERIES = 8


def test_grouped_chart_takes_runs_from_the_latest_and_counts_those_charted(
    client, bob, project, alice, monkeypatch
):
    monkeypatch.setattr(grouping_views, "CHART_RUNS_WINDOW", 3)
    for index in range(5):
        run = RunFactory(
            project=project,
            author=alice,
            run_id=f"r{index}",
            job_type="train",
            created_at=T0 + timedelta(minutes=index),
        )
        if index != 4:  # the latest run logs no loss
            send(run, [{"_step": 0, "loss": float(index)}])
    client.force_login(bob)

    data = client.get(chart_url(project), {"key": "loss", "group": "job_type"}).json()

    (train,) = data["groups"]
    # Of the latest three runs (2, 3, 4), two logged the loss.
    assert (train["count"], train["charted"]) == (5, 2)
    assert train["mean"] == [2.5] and train["min"] == [2.0] and train["max"] == [3.0]
