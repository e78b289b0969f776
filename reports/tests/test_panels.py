"""The panels beyond charts and tables: leaderboards, scatter and parallel coordinates
figures, a run's images, artifact and registered model cards; their settings' checks, what
they show, and their queries, the same whatever the number of runs, images or metadata."""

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from artifacts import registry
from artifacts.models import Artifact, ArtifactAlias, ArtifactCollection
from reports import services
from reports.blocks import clean_config
from reports.models import ReportBlock
from reports.panels import render_blocks
from reports.tests.helpers import log_images
from tests.factories import ProjectFactory

Kind = ReportBlock.Kind
EVERY_RUN = {"query": ""}


def errors(kind, config) -> dict:
    with pytest.raises(ValidationError) as caught:
        clean_config(kind, config)
    return caught.value.message_dict


def render(project, kind, config):
    return render_blocks(project, [{"key": "k", "kind": kind, "config": config}])[0]


# Settings


def test_leaderboard_settings_are_checked():
    assert clean_config(
        Kind.LEADERBOARD, {"runs": EVERY_RUN, "metric": "summary.acc", "columns": ["config.lr"]}
    ) == {
        "runs": EVERY_RUN,
        "metric": "summary.acc",
        "best": "max",
        "limit": 10,
        "columns": ["config.lr"],
    }
    assert "metric" in errors(Kind.LEADERBOARD, {"runs": EVERY_RUN, "metric": "acc"})
    assert "metric" in errors(Kind.LEADERBOARD, {"runs": EVERY_RUN})
    ok = {"runs": EVERY_RUN, "metric": "summary.acc"}
    assert "best" in errors(Kind.LEADERBOARD, {**ok, "best": "top"})
    assert "limit" in errors(Kind.LEADERBOARD, {**ok, "limit": 51})
    assert "limit" in errors(Kind.LEADERBOARD, {**ok, "limit": 0})
    assert "columns" in errors(Kind.LEADERBOARD, {**ok, "columns": ["tags"]})
    assert "runs" in errors(Kind.LEADERBOARD, {**ok, "runs": {"query": "summary.acc >"}})


def test_scatter_and_parallel_settings_are_checked():
    assert clean_config(Kind.SCATTER, {"runs": EVERY_RUN, "x": "config.lr", "y": "summary.a"}) == {
        "runs": EVERY_RUN,
        "x": "config.lr",
        "y": "summary.a",
    }
    assert "y" in errors(Kind.SCATTER, {"runs": EVERY_RUN, "x": "config.lr", "y": "name"})
    assert "color" in errors(
        Kind.SCATTER, {"runs": EVERY_RUN, "x": "config.lr", "y": "summary.a", "color": "x"}
    )
    assert "columns" in errors(
        Kind.PARALLEL_COORDINATES, {"runs": EVERY_RUN, "columns": ["config.lr"]}
    )
    eleven = [f"config.k{i}" for i in range(11)]
    assert "columns" in errors(Kind.PARALLEL_COORDINATES, {"runs": EVERY_RUN, "columns": eleven})


def test_media_and_card_settings_are_checked():
    assert clean_config(Kind.MEDIA, {"run": " r1 ", "key": "samples"}) == {
        "run": "r1",
        "key": "samples",
    }
    assert "step" in errors(Kind.MEDIA, {"run": "r1", "key": "samples", "step": -1})
    assert "key" in errors(Kind.MEDIA, {"run": "r1"})
    assert "run" in errors(Kind.MEDIA, {"key": "samples"})
    assert clean_config(Kind.ARTIFACT, {"artifact": "model:latest"}) == {"artifact": "model:latest"}
    assert "artifact" in errors(Kind.ARTIFACT, {"artifact": "model"})
    assert "model" in errors(Kind.REGISTERED_MODEL, {"model": "a:b:c"})


def test_a_frozen_run_set_keeps_its_ids_and_time():
    frozen = {"query": "state = finished", "frozen": ["a", "b"], "frozen_at": "2026-12-06T04:00"}
    cleaned = clean_config(Kind.SCATTER, {"runs": frozen, "x": "config.lr", "y": "summary.a"})
    assert cleaned["runs"] == frozen
    assert "runs" in errors(
        Kind.SCATTER,
        {"runs": {**frozen, "frozen_at": "yesterday"}, "x": "config.lr", "y": "summary.a"},
    )


# What they show


def test_leaderboard_ranks_runs_and_says_which_lack_the_metric(project, make_run):
    make_run(run_id="a", name="low", summary={"acc": 0.5}, config={"lr": 0.1})
    make_run(run_id="b", name="high", summary={"acc": 0.9}, config={"lr": 0.2})
    make_run(run_id="c", name="mid", summary={"acc": 0.7})
    make_run(run_id="d", name="none", summary={"acc": "n/a"})
    make_run(run_id="e", name="other", summary={"loss": 1})
    config = clean_config(
        Kind.LEADERBOARD,
        {"runs": EVERY_RUN, "metric": "summary.acc", "columns": ["config.lr"], "limit": 2},
    )
    block = render(project, Kind.LEADERBOARD, config)
    assert [(row["rank"], row["run"].run_id, row["values"]) for row in block.rows] == [
        (1, "b", ["0.2"]),
        (2, "c", [None]),
    ]
    assert "2 runs of the set without a number for summary.acc left out." in block.notes
    assert "The best 2 of 3 runs shown." in block.notes
    lowest = render(project, Kind.LEADERBOARD, {**config, "best": "min"})
    assert [row["run"].run_id for row in lowest.rows] == ["a", "c"]


def test_scatter_draws_one_point_per_run_named_on_hover(project, make_run):
    make_run(run_id="a", name="alpha", summary={"acc": 0.5}, config={"lr": 0.1})
    make_run(run_id="b", name="<b>eta</b>", summary={"acc": 0.9}, config={"lr": 0.2})
    make_run(run_id="c", summary={"acc": 0.9})
    config = clean_config(Kind.SCATTER, {"runs": EVERY_RUN, "x": "config.lr", "y": "summary.acc"})
    block = render(project, Kind.SCATTER, config)
    (trace,) = block.figure["data"]
    assert sorted(zip(trace["x"], trace["y"], trace["text"], strict=True)) == [
        (0.1, 0.5, "alpha"),
        (0.2, 0.9, "&lt;b&gt;eta&lt;/b&gt;"),
    ]
    assert any("1 run without numbers for both" in note for note in block.notes)


def test_parallel_coordinates_leave_out_text_columns_and_runs_without_numbers(project, make_run):
    make_run(run_id="a", name="one", summary={"acc": 0.5}, config={"lr": 0.1, "opt": "adam"})
    make_run(run_id="b", name="two", summary={"acc": 0.9}, config={"lr": 0.2, "opt": "sgd"})
    make_run(run_id="c", name="three", summary={"acc": 0.7})
    config = clean_config(
        Kind.PARALLEL_COORDINATES,
        {"runs": EVERY_RUN, "columns": ["config.lr", "config.opt", "summary.acc"]},
    )
    block = render(project, Kind.PARALLEL_COORDINATES, config)
    assert "Not numeric in these runs, left out: config.opt." in block.notes
    assert "1 run without a number on every column left out: three." in block.notes
    assert block.figure["layout"]["xaxis"]["ticktext"] == ["config.lr", "summary.acc"]
    drawn = {
        text.split("<br>")[0]
        for trace in block.figure["data"]
        for text in trace.get("text") or []
        if text
    }
    assert drawn == {"one", "two"}


def test_media_shows_the_latest_or_a_chosen_step_through_signed_links(
    client, project, make_run, log
):
    run = make_run(run_id="r1", name="imgs")
    log_images(run, log, steps=3, per_step=2)
    block = render(project, Kind.MEDIA, {"run": "r1", "key": "samples"})
    assert [image["caption"] for image in block.images] == ["step 2 image 0", "step 2 image 1"]
    assert block.notes == ["Step 2 (the latest step; logged at 3 steps, 0 to 2)."]
    # The link works without a session (the project is private) and only while signed.
    response = client.get(block.images[0]["src"])
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert client.get(block.images[0]["src"][:-3] + "xx/").status_code == 404
    chosen = render(project, Kind.MEDIA, {"run": "r1", "key": "samples", "step": 1})
    assert chosen.images[1]["caption"] == "step 1 image 1"
    assert render(project, Kind.MEDIA, {"run": "r1", "key": "samples", "step": 7}).error
    assert render(project, Kind.MEDIA, {"run": "r1", "key": "loss"}).error
    assert "no run “gone”" in render(project, Kind.MEDIA, {"run": "gone", "key": "x"}).error


@pytest.fixture
def model_version(project, make_run, alice):
    run = make_run(run_id="trainer", name="trainer-run")
    collection = ArtifactCollection.objects.create(project=project, name="model", type="model")
    versions = [
        Artifact.objects.create(
            collection=collection,
            version_index=index,
            digest=f"{index:032d}",
            state=Artifact.State.COMMITTED,
            created_by_run=run,
            size=2048 * (index + 1),
            file_count=3,
            description=f"weights {index}",
            metadata={f"key{i}": i for i in range(8)},
        )
        for index in range(2)
    ]
    ArtifactAlias.objects.create(collection=collection, artifact=versions[1], alias="latest")
    return versions


def test_artifact_card_by_alias_or_version_and_a_missing_one(project, model_version):
    card = render(project, Kind.ARTIFACT, {"artifact": "model:latest"}).card
    assert (card["name"], card["version"], card["aliases"]) == ("model", "v1", ["latest"])
    assert card["run"].run_id == "trainer" and card["file_count"] == 3
    assert card["metadata"] == [(f"key{i}", str(i)) for i in range(5)]
    assert card["more_metadata"] == 3
    assert render(project, Kind.ARTIFACT, {"artifact": "model:v0"}).card["description"] == (
        "weights 0"
    )
    missing = render(project, Kind.ARTIFACT, {"artifact": "model:v9"})
    assert missing.card is None and "no artifact model" in missing.error


def test_registered_model_card_names_the_registry_version(project, team, alice, model_version):
    registry_project = ProjectFactory(entity=team, creator=alice, name=registry.REGISTRY_PROJECT)
    registry.artifact_link(
        artifact=model_version[0],
        project=registry_project,
        portfolio_name="classifier",
        aliases=["production"],
        actor=alice,
    )
    card = render(project, Kind.REGISTERED_MODEL, {"model": "classifier:production"}).card
    assert card["registry"]["name"] == "classifier" and card["registry"]["version"] == "v0"
    assert card["registry"]["aliases"] == ["latest", "production"]
    assert (card["name"], card["version"]) == ("model", "v0")
    assert render(project, Kind.REGISTERED_MODEL, {"model": "classifier:v3"}).error
    assert render(project, Kind.REGISTERED_MODEL, {"model": "nothing:latest"}).error


# Queries: constant in the data each panel shows


def _data(project, make_run, log, alice, team, size: int):
    for index in range(size):
        make_run(
            run_id=f"r{index}",
            summary={"acc": index / 10, "loss": 1.0 - index / 100},
            config={"lr": index / 1000, "opt": "adam"},
        )
    log_images(make_run(run_id="media"), log, steps=size, per_step=size)
    collection = ArtifactCollection.objects.create(project=project, name="model", type="model")
    versions = [
        Artifact.objects.create(
            collection=collection,
            version_index=index,
            digest=f"{index:032d}",
            state=Artifact.State.COMMITTED,
            metadata={f"k{i}": i for i in range(size)},
        )
        for index in range(size)
    ]
    ArtifactAlias.objects.create(collection=collection, artifact=versions[-1], alias="latest")
    registry_project = ProjectFactory(entity=team, creator=alice, name=registry.REGISTRY_PROJECT)
    for version in versions:
        registry.artifact_link(
            artifact=version, project=registry_project, portfolio_name="clf", actor=alice
        )


CONFIGS = {
    Kind.LEADERBOARD: (
        2,
        {"runs": EVERY_RUN, "metric": "summary.acc", "columns": ["config.lr"], "limit": 50},
    ),
    Kind.SCATTER: (1, {"runs": EVERY_RUN, "x": "config.lr", "y": "summary.acc"}),
    Kind.PARALLEL_COORDINATES: (
        1,
        {"runs": EVERY_RUN, "columns": ["config.lr", "config.opt", "summary.acc"]},
    ),
    Kind.MEDIA: (4, {"run": "media", "key": "samples"}),
    Kind.ARTIFACT: (2, {"artifact": "model:latest"}),
    Kind.REGISTERED_MODEL: (2, {"model": "clf:latest"}),
}


@pytest.mark.parametrize("size", [2, 12])
@pytest.mark.parametrize("kind", list(CONFIGS))
def test_each_panel_reads_a_fixed_number_of_queries(
    project, make_run, log, alice, team, kind, size, django_assert_num_queries
):
    _data(project, make_run, log, alice, team, size)
    queries, config = CONFIGS[kind]
    with django_assert_num_queries(queries):
        block = render(project, kind, clean_config(kind, config))
    assert not block.error
    shown = {
        Kind.LEADERBOARD: lambda: len(block.rows),
        Kind.SCATTER: lambda: len(block.figure["data"][0]["x"]),
        Kind.PARALLEL_COORDINATES: lambda: len(block.figure["data"][0]["x"]) > 0,
        Kind.MEDIA: lambda: len(block.images),
        Kind.ARTIFACT: lambda: block.card["version"],
        Kind.REGISTERED_MODEL: lambda: block.card["registry"]["version"],
    }[kind]()
    expected = {
        Kind.LEADERBOARD: size,
        Kind.SCATTER: size,
        Kind.PARALLEL_COORDINATES: True,
        Kind.MEDIA: size,
        Kind.ARTIFACT: f"v{size - 1}",
        Kind.REGISTERED_MODEL: f"v{size - 1}",
    }[kind]
    assert shown == expected


# The editor's forms


FORMS = {
    Kind.LEADERBOARD: (
        {"metric": "summary.acc", "best": "min", "limit": "5", "columns": "config.lr"},
        {"metric": "acc", "best": "min", "limit": "5"},
        "metric",
    ),
    Kind.SCATTER: ({"x": "config.lr", "y": "summary.acc"}, {"x": "lr", "y": "summary.acc"}, "x"),
    Kind.PARALLEL_COORDINATES: (
        {"columns": "config.lr, summary.acc"},
        {"columns": "config.lr"},
        "columns",
    ),
    Kind.MEDIA: ({"run": "r1", "key": "samples", "step": ""}, {"run": "r1", "key": ""}, "key"),
    Kind.ARTIFACT: ({"artifact": "model:v0"}, {"artifact": "model"}, "artifact"),
    Kind.REGISTERED_MODEL: ({"model": "clf:latest"}, {"model": "clf latest"}, "model"),
}


@pytest.mark.parametrize("kind", list(FORMS))
def test_the_editor_adds_each_kind_and_refuses_bad_settings(client, project, bob, kind):
    report = services.report_create(project=project, title="Forms", actor=bob)
    new = reverse("reports:block_new", args=[project.entity.name, project.name, report.key])
    client.force_login(bob)
    assert client.get(new, {"kind": kind}).status_code == 200
    good, bad, field = FORMS[kind]
    refused = client.post(new, {"kind": kind, **bad})
    assert refused.status_code == 400 and refused.context["form"].errors[field]
    assert not report.blocks.exists()
    assert client.post(new, {"kind": kind, **good}).status_code == 302
    block = report.blocks.get()
    assert block.kind == kind
    # The editor shows it (a card or panel that names nothing yet says so, never a 500).
    assert client.get(report.get_edit_url()).status_code == 200
    edit = reverse(
        "reports:block_edit", args=[project.entity.name, project.name, report.key, block.key]
    )
    assert client.get(edit).status_code == 200


# Readers outside the project (a share link): no links into it


@pytest.mark.parametrize("outside", [False, True])
def test_outside_readers_get_no_links_into_the_project(
    project, make_run, log, alice, team, outside
):
    _data(project, make_run, log, alice, team, 2)
    blocks = render_blocks(
        project,
        [
            {"key": kind, "kind": kind, "config": clean_config(kind, config)}
            for kind, (_, config) in CONFIGS.items()
        ]
        + [
            {
                "key": "t",
                "kind": Kind.RUNS_TABLE,
                "config": {"runs": EVERY_RUN, "columns": [], "limit": 5},
            }
        ],
    )
    html = "".join(
        render_to_string("reports/_block.html", {"block": block, "outside": outside})
        for block in blocks
    )
    project_path = f"/{project.entity.name}/{project.name}/"
    registry_path = f"/{project.entity.name}/registry/"
    assert "<img" in html and "/media/thumbnails/" in html
    assert ("href=" in html) is not outside
    assert (f'href="{project_path}' in html) is not outside
    assert (f'href="{registry_path}' in html) is not outside
    assert ("data-click-through" in html) is not outside


@pytest.mark.parametrize("size", [2, 12])
def test_a_page_of_every_kind_reads_a_fixed_number_of_queries(
    client, project, bob, make_run, log, alice, team, size, django_assert_num_queries
):
    _data(project, make_run, log, alice, team, size)
    report = services.report_create(project=project, title="Every kind", actor=bob)
    for kind, (_, config) in CONFIGS.items():
        services.block_add(report=report, kind=kind, config=config)
    services.report_publish(report=report, actor=bob)
    client.force_login(bob)
    # The page itself (session, user, project, permissions, report, version, and for a member
    # the comments: counts per block and the report's thread), then each panel.
    with django_assert_num_queries(8 + sum(queries for queries, _ in CONFIGS.values())):
        response = client.get(report.get_absolute_url())
    assert response.status_code == 200
    assert not any(block.error for block in response.context["blocks"])
