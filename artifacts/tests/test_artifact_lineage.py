"""The lineage page of a version: runs and versions upstream and downstream, N hops, in layers,
across the projects the viewer may see, at a fixed number of queries.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from artifacts.lineage import LAYER_NODES, lineage
from tests.factories import ProjectFactory, RunFactory

from .logged import log_version, use


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def chain(resnet, alice):
    """prep logs data:v0; train uses it and logs model:v0; evaluate uses that, logs report:v0."""
    prep, train, evaluate = (
        RunFactory(project=resnet, run_id=run_id, name=run_id, author=alice)
        for run_id in ("prep", "train", "evaluate")
    )
    data = log_version(resnet, prep, "data", {"a.csv": b"x\n1\n"}, type_name="dataset")
    use(data, train)
    model = log_version(resnet, train, "model", {"w.bin": b"\x00"})
    use(model, evaluate)
    report = log_version(resnet, evaluate, "report", {"r.txt": b"ok"}, type_name="report")
    return {"data": data, "model": model, "report": report}


def lineage_url(artifact, **params):
    collection = artifact.collection
    url = reverse(
        "artifacts:lineage",
        args=["example-team", "resnet", collection.type, collection.name, artifact.version],
    )
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def labels(response):
    return {
        layer: [node.label for node in nodes] for layer, nodes in response.context["graph"].layers()
    }


@pytest.mark.parametrize(
    ("hops", "expected"),
    [
        (1, {-1: ["train"], 0: ["model:v0"], 1: ["evaluate"]}),
        (2, {-2: ["data:v0"], -1: ["train"], 0: ["model:v0"], 1: ["evaluate"], 2: ["report:v0"]}),
        (
            3,
            {
                -3: ["prep"],
                -2: ["data:v0"],
                -1: ["train"],
                0: ["model:v0"],
                1: ["evaluate"],
                2: ["report:v0"],
            },
        ),
    ],
)
def test_the_lineage_reaches_n_hops_each_way(client, bob, chain, hops, expected):
    client.force_login(bob)

    response = client.get(lineage_url(chain["model"], hops=hops))

    assert labels(response) == expected


def test_hops_default_to_two_and_are_capped(client, bob, chain):
    client.force_login(bob)

    assert client.get(lineage_url(chain["model"])).context["graph"].hops == 2
    assert client.get(lineage_url(chain["model"], hops=99)).context["graph"].hops == 6
    assert client.get(lineage_url(chain["model"], hops="x")).context["graph"].hops == 2
    assert client.get(lineage_url(chain["model"], hops=0)).context["graph"].hops == 1


def test_the_graph_links_its_nodes_and_draws_its_edges(client, bob, chain):
    client.force_login(bob)

    response = client.get(lineage_url(chain["model"]))

    text = response.content.decode()
    figure = json.loads(
        text.split('id="lineage-data" type="application/json">')[1].split("</script>")[0]
    )
    by_label = {node["label"]: node for node in figure["nodes"]}
    assert by_label["train"]["url"] == reverse(
        "runs:detail", args=["example-team", "resnet", "train"]
    )
    assert by_label["data:v0"]["url"] == lineage_url(chain["data"]).replace("lineage/", "")
    assert by_label["model:v0"]["root"] and by_label["model:v0"]["x"] == 0
    # data -> train -> model -> evaluate -> report, left to right
    assert sorted((x0, x1) for x0, _, x1, _ in figure["edges"]) == [
        (-2, -1),
        (-1, 0),
        (0, 1),
        (1, 2),
    ]
    assert reverse("runs:detail", args=["example-team", "resnet", "evaluate"]) in text


def test_runs_and_versions_of_other_projects_the_viewer_sees_are_in_it(
    client, alice, team, public_team, chain
):
    other = ProjectFactory(entity=team, creator=alice, name="other")
    tuning = RunFactory(project=other, run_id="tuning", name="tuning", author=alice)
    use(chain["model"], tuning)
    log_version(other, tuning, "tuned", {"w.bin": b"\x01"})
    shared = ProjectFactory(entity=public_team, creator=alice, name="shared", visibility="public")
    use(chain["model"], RunFactory(project=shared, run_id="bench", name="bench", author=alice))
    client.force_login(alice)

    response = client.get(lineage_url(chain["model"], hops=2))

    assert labels(response)[1] == ["evaluate", "open-team/shared/bench", "other/tuning"]
    assert labels(response)[2] == ["other/tuned:v0", "report:v0"]
    text = response.content.decode()
    assert reverse("runs:detail", args=["open-team", "shared", "bench"]) in text
    assert (
        reverse("artifacts:version", args=["example-team", "other", "model", "tuned", "v0"]) in text
    )


def test_what_the_viewer_may_not_see_stays_out(client, alice, bob, charlie, public_team, chain):
    hidden = ProjectFactory(entity=public_team, creator=alice, name="hidden")  # team-only
    use(chain["model"], RunFactory(project=hidden, run_id="secret", author=alice))
    shared = ProjectFactory(entity=public_team, creator=alice, name="shared", visibility="public")
    published = RunFactory(project=shared, run_id="published", name="published", author=alice)
    log_version(shared, published, "public-model", {"w.bin": b"\x02"})
    use(chain["model"], published)
    client.force_login(bob)  # in example-team, not in open-team

    response = client.get(lineage_url(chain["model"], hops=2))

    assert labels(response)[1] == ["evaluate", "open-team/shared/published"]
    assert "secret" not in response.content.decode()
    assert labels(response)[2] == ["open-team/shared/public-model:v0", "report:v0"]


def _fan(resnet, alice, size):
    """A dataset used by `size` runs, each logging a model version used by another run."""
    prep = RunFactory(project=resnet, run_id=f"prep{size}", author=alice)
    data = log_version(resnet, prep, f"data{size}", {"a.csv": b"x\n"}, type_name="dataset")
    for i in range(size):
        run = RunFactory(project=resnet, run_id=f"t{size}-{i}", author=alice)
        use(data, run)
        model = log_version(resnet, run, f"m{size}", {"w.bin": b"%d" % i})
        use(model, RunFactory(project=resnet, run_id=f"e{size}-{i}", author=alice))
    return data


def test_the_lineage_costs_the_same_queries_at_two_sizes(
    client, alice, resnet, django_assert_num_queries
):
    small, large = _fan(resnet, alice, 2), _fan(resnet, alice, 8)
    client.force_login(alice)
    small_url, large_url = lineage_url(small, hops=3), lineage_url(large, hops=3)
    client.get(small_url)  # warm the session and the permission caches

    with CaptureQueriesContext(connection) as at_small:
        response = client.get(small_url)
    assert [len(nodes) for _, nodes in response.context["graph"].layers()] == [1, 1, 2, 2, 2]
    with django_assert_num_queries(len(at_small)):
        response = client.get(large_url)
    assert [len(nodes) for _, nodes in response.context["graph"].layers()] == [1, 1, 8, 8, 8]


def test_a_crowded_layer_shows_its_first_nodes_and_counts_the_rest(resnet, alice, monkeypatch):
    monkeypatch.setattr("artifacts.lineage.LAYER_NODES", 3)
    data = _fan(resnet, alice, 5)

    graph = lineage(data, [resnet.pk], hops=2)

    assert [len(nodes) for _, nodes in graph.layers()] == [1, 1, 3, 3]
    assert graph.hidden == {1: 2}
    assert LAYER_NODES == 100
