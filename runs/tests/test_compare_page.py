"""The run comparer's page: who may see it, the limits on the runs it names, "only differences",
the table's Compare button, and a query count that does not grow with runs or keys.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie in no team; alice alone in the public open-team.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from runs.models import Run
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def runs(project, alice, bob):
    return [
        RunFactory(
            project=project,
            run_id="base",
            name="baseline",
            author=alice,
            config={"lr": 0.1, "epochs": 10, "optimizer": {"name": "sgd"}, "_wandb": {"x": 1}},
            summary={
                "val/loss": 0.3,
                "acc": 0.9,
                "_step": 9,
                "sample": {"_type": "image-file", "path": "media/images/s.png"},
            },
            runtime=125.0,
        ),
        RunFactory(
            project=project,
            run_id="tuned",
            name="tuned-lr",
            author=bob,
            config={"lr": 0.01, "epochs": 10, "optimizer": {"name": "adamw"}},
            summary={"val/loss": 0.2, "acc": 0.95, "_step": 9},
        ),
    ]


def compare_url(project, *run_ids, **params):
    url = reverse("runs:compare", args=[project.entity.name, project.name])
    query = "&".join(
        [*(f"run={run_id}" for run_id in run_ids)] + [f"{k}={v}" for k, v in params.items()]
    )
    return f"{url}?{query}"


def row_keys(response):
    return {
        title: [row.key for row in section.rows]
        for section in response.context["sections"]
        for title in [section.title]
    }


def test_member_sees_runs_side_by_side(client, bob, project, runs):
    client.force_login(bob)
    response = client.get(compare_url(project, "tuned", "base"))
    assert response.status_code == 200
    assert [run.run_id for run in response.context["runs"]] == ["tuned", "base"]
    assert row_keys(response) == {
        "Config": ["epochs", "lr", "optimizer.name"],
        "Summary": ["acc", "sample", "val/loss"],
    }
    page = response.content.decode()
    assert runs[0].get_absolute_url() in page and runs[1].get_absolute_url() in page
    assert "2m 5s" in page  # runtime, formatted like the run page
    assert ">image<" in page and "media/images/s.png" not in page
    assert "_wandb" not in page and "_step" not in page
    assert "—" in page  # the image is missing from "tuned"


def test_best_summary_values_are_marked(client, bob, project, runs):
    client.force_login(bob)
    response = client.get(compare_url(project, "base", "tuned"))
    summary = {row.key: row for row in response.context["sections"][1].rows}
    assert [cell.best for cell in summary["val/loss"].cells] == [False, True]
    assert [cell.best for cell in summary["acc"].cells] == [False, True]
    assert "the lowest for keys naming a loss or an error" in response.content.decode()


def test_only_differences_hides_shared_rows_and_is_a_link(client, bob, project, runs):
    client.force_login(bob)
    response = client.get(compare_url(project, "base", "tuned", diff=1))
    assert response.status_code == 200
    assert row_keys(response) == {
        "Config": ["lr", "optimizer.name"],
        "Summary": ["acc", "sample", "val/loss"],
    }
    page = response.content.decode()
    assert "1 the same in every run hidden" in page
    assert 'href="?run=base&amp;run=tuned"' in page  # back to every row


def test_htmx_toggle_gets_the_region_only(client, bob, project, runs):
    client.force_login(bob)
    response = client.get(
        compare_url(project, "base", "tuned", diff=1),
        headers={"HX-Request": "true", "HX-Target": "compare-region"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and 'id="compare-table"' in page


def test_public_project_is_open_to_anonymous_visitors(client, public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    RunFactory(project=project, run_id="a", config={"lr": 1})
    RunFactory(project=project, run_id="b", config={"lr": 2})
    response = client.get(compare_url(project, "a", "b"))
    assert response.status_code == 200


def test_outsider_and_anonymous_get_404_on_private_project(client, charlie, project, runs):
    assert client.get(compare_url(project, "base", "tuned")).status_code == 404
    client.force_login(charlie)
    assert client.get(compare_url(project, "base", "tuned")).status_code == 404


@pytest.mark.parametrize(
    ("run_ids", "message"),
    [
        ([], "at least 2 runs"),
        (["base"], "at least 2 runs"),
        (["base", "base"], "at least 2 runs"),
        ([f"r{i}" for i in range(21)], "at most 20 runs"),
        (["base", "nope"], "no run nope"),
    ],
)
def test_too_few_too_many_or_unknown_runs_get_a_400_page(
    client, bob, project, runs, run_ids, message
):
    client.force_login(bob)
    response = client.get(compare_url(project, *run_ids))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_runs_of_another_project_never_appear(client, alice, team, project, runs):
    other = ProjectFactory(entity=team, creator=alice, name="other")
    RunFactory(project=other, run_id="elsewhere", name="secret-elsewhere")
    client.force_login(alice)
    response = client.get(compare_url(project, "base", "elsewhere"))
    assert response.status_code == 400
    assert "secret-elsewhere" not in response.content.decode()


def test_the_tables_compare_button_redirects_to_the_linkable_page(client, bob, project, runs):
    client.force_login(bob)
    url = reverse("runs:compare", args=[project.entity.name, project.name])
    response = client.post(url, {"run": ["tuned", "base"], "select_all": "0", "next": "/x/"})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == url
    assert parse_qs(location.query) == {"run": ["tuned", "base"]}


def test_compare_with_one_ticked_run_goes_back_with_a_message(client, bob, project, runs):
    client.force_login(bob)
    url = reverse("runs:compare", args=[project.entity.name, project.name])
    back = project.get_absolute_url() + "?state=finished"
    response = client.post(url, {"run": ["base"], "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Pick at least 2 runs to compare."
    ]


def test_compare_of_every_run_matching_a_filter(client, bob, project, runs):
    client.force_login(bob)
    url = reverse("runs:compare", args=[project.entity.name, project.name])
    response = client.post(url, {"select_all": "1", "q": "config.epochs = 10"})
    assert sorted(parse_qs(urlsplit(response["Location"]).query)["run"]) == ["base", "tuned"]
    RunFactory.create_batch(20, project=project, config={"epochs": 10})
    response = client.post(url, {"select_all": "1", "q": "config.epochs = 10"})
    assert response["Location"] == project.get_absolute_url()
    assert "at most 20 runs" in str(next(iter(get_messages(response.wsgi_request))))


def test_a_filter_with_a_mistake_is_refused_not_widened(client, bob, project, runs):
    client.force_login(bob)
    url = reverse("runs:compare", args=[project.entity.name, project.name])
    response = client.post(url, {"select_all": "1", "q": "config.lr >= and"})
    assert response["Location"] == project.get_absolute_url()
    assert "mistake" in str(next(iter(get_messages(response.wsgi_request))))


def many_runs(project, count, keys):
    Run.objects.bulk_create(
        Run(
            project=project,
            run_id=f"m{i:03d}",
            config={f"c{k}": {"inner": k * i} for k in range(keys)},
            summary={f"s{k}": k / (i + 1) for k in range(keys)},
        )
        for i in range(count)
    )
    return [f"m{i:03d}" for i in range(count)]


@pytest.mark.parametrize(("count", "keys"), [(2, 3), (20, 60)])
def test_query_count_is_fixed_whatever_the_runs_and_keys(
    client, bob, project, django_assert_num_queries, count, keys
):
    run_ids = many_runs(project, count, keys)
    client.force_login(bob)
    client.get(compare_url(project, *run_ids))  # the session is read once warm
    # session + user, project, the viewer's permissions, quiet runs, the runs with their authors
    with django_assert_num_queries(6):
        response = client.get(compare_url(project, *run_ids, diff=1))
    assert response.status_code == 200
    assert len(response.context["runs"]) == count
