"""The leaderboard: best run per group, ties, the query, CSV, bad parameters, query counts."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs.models import Run
from tests.factories import ProjectFactory, RunFactory

METRIC = "summary.val/acc"


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="vision")


def make(project, run_id, dataset=None, acc=None, **fields):
    config = {"dataset": dataset} if dataset is not None else {}
    summary = {"val/acc": acc} if acc is not None else {}
    return RunFactory(project=project, run_id=run_id, config=config, summary=summary, **fields)


def board(client, project, **params):
    return client.get(reverse("runs:leaderboard", args=[project.entity.name, project.name]), params)


def rows_of(response):
    return [
        (row.group, row.run.run_id, row.value, row.runs_in_group)
        for row in response.context["rows"]
    ]


@pytest.fixture
def runs(project):
    make(project, "a-low", "mnist", 0.5)
    make(project, "a-high", "mnist", 0.9)
    make(project, "a-tie", "mnist", 0.9)  # created after a-high: the tie goes to a-high
    make(project, "b-high", "cifar", 0.7)
    make(project, "b-text", "cifar", "n/a")  # text never wins
    make(project, "c-none", "imagenet")  # no metric in the group at all
    make(project, "no-group", None, 0.95)


def test_best_run_per_group_ordered_by_the_metric_with_ties_to_the_earlier_run(
    client, alice, runs, project
):
    client.force_login(alice)
    response = board(client, project, metric=METRIC, goal="max", group="config.dataset")
    assert response.status_code == 200
    assert rows_of(response) == [
        (None, "no-group", 0.95, 1),
        ("mnist", "a-high", 0.9, 3),
        ("cifar", "b-high", 0.7, 2),
        ("imagenet", "c-none", None, 1),
    ]


def test_min_goal_and_the_query_choose_the_runs(client, alice, runs, project):
    client.force_login(alice)
    response = board(
        client,
        project,
        metric=METRIC,
        goal="min",
        group="config.dataset",
        q="summary.val/acc > 0.6",
    )
    assert rows_of(response) == [
        ("cifar", "b-high", 0.7, 1),
        ("mnist", "a-high", 0.9, 2),
        (None, "no-group", 0.95, 1),
    ]


def test_without_a_group_the_top_runs(client, alice, runs, project):
    client.force_login(alice)
    response = board(client, project, metric=METRIC, limit=3)
    assert [row.run.run_id for row in response.context["rows"]] == ["no-group", "a-high", "a-tie"]
    assert "a-high" in response.content.decode()


def test_group_by_a_run_field(client, alice, project):
    make(project, "r1", acc=0.3, group="sweep-1")
    make(project, "r2", acc=0.6, group="sweep-1")
    make(project, "r3", acc=0.4, group="sweep-2")
    client.force_login(alice)
    response = board(client, project, metric=METRIC, group="group")
    assert rows_of(response) == [("sweep-1", "r2", 0.6, 2), ("sweep-2", "r3", 0.4, 1)]


def test_csv_has_the_same_rows(client, alice, runs, project):
    client.force_login(alice)
    url = reverse("runs:leaderboard_csv", args=[project.entity.name, project.name])
    response = client.get(url, {"metric": METRIC, "group": "config.dataset"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["config.dataset", "run_id", "name", METRIC, "runs_in_group"]
    assert rows[1:3] == [
        ["", "no-group", "name-no-group", "0.95", "1"],
        ["mnist", "a-high", "name-a-high", "0.9", "3"],
    ]
    assert len(rows) == 5


def test_csv_keeps_formulas_as_text(client, alice, project):
    make(project, "f1", acc=1.0, name="=HYPERLINK(1)")
    client.force_login(alice)
    url = reverse("runs:leaderboard_csv", args=[project.entity.name, project.name])
    rows = list(csv.reader(io.StringIO(client.get(url, {"metric": METRIC}).content.decode())))
    assert rows[1][1] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"metric": "loss"}, "summary or config key"),
        ({"metric": METRIC, "goal": "best"}, "“max” or “min”"),
        ({"metric": METRIC, "group": "colour"}, "Group by"),
        ({"metric": METRIC, "q": "summary.acc >> 1"}, "The query has a mistake"),
        ({"metric": METRIC, "limit": "many"}, "whole number"),
        ({"metric": METRIC, "limit": "0"}, "between 1 and"),
        ({"metric": "summary." + "x" * 2000}, "longer than"),
    ],
)
def test_bad_parameters_get_a_clear_400(client, alice, project, params, message):
    client.force_login(alice)
    response = board(client, project, **params)
    assert response.status_code == 400
    assert message in response.content.decode()
    csv_url = reverse("runs:leaderboard_csv", args=[project.entity.name, project.name])
    response = client.get(csv_url, params)
    assert response.status_code == 400 and message in response.content.decode()


def test_the_page_without_a_metric_offers_the_keys(client, alice, runs, project):
    client.force_login(alice)
    page = board(client, project).content.decode()
    assert 'value="summary.val/acc"' in page and 'value="config.dataset"' in page


def test_outsider_gets_404(client, charlie, runs, project):
    client.force_login(charlie)
    assert board(client, project, metric=METRIC).status_code == 404


@pytest.mark.parametrize("group", ["config.dataset", ""])
def test_query_count_is_fixed_whatever_the_number_of_runs_and_groups(
    client, alice, project, group, django_assert_num_queries
):
    client.force_login(alice)
    make(project, "first", "d0", 0.1)
    board(client, project, metric=METRIC, group=group)  # warm the session
    with CaptureQueriesContext(connection) as small:
        board(client, project, metric=METRIC, group=group)
    Run.objects.bulk_create(
        RunFactory.build(
            project=project,
            run_id=f"bulk{index}",
            config={"dataset": f"d{index % 40}"},
            summary={"val/acc": index / 300},
        )
        for index in range(300)
    )
    with django_assert_num_queries(len(small.captured_queries)):
        response = board(client, project, metric=METRIC, group=group)
    assert len(response.context["rows"]) == (40 if group else 20)
