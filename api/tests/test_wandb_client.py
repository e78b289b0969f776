"""The unmodified wandb client (pinned in requirements-test.txt) against a live Teamsite: each
test runs a script in a subprocess, as a user's training job would, then checks what was stored
and what wandb.Api() reads back."""

import io
import json
import re

import pytest
from django.core import mail
from django.urls import reverse
from PIL import Image

from artifacts.models import AliasMove, Artifact
from projects.models import Project
from projects.services import project_create
from reports import services as report_services
from reports.models import ReportBlock
from runs.history import history
from runs.models import Alert, ConsoleLine, Run
from teams.services import default_entity_set
from tests.factories import RunFactory, api_key_for
from tests.wandb_client import WandbClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wandb_env(live_server, tmp_path):
    client = WandbClient(live_server.url, tmp_path)

    def run(script, *args, **kwargs):
        return client.run(script, *args, **kwargs)

    run.commit = client.commit
    return run


def test_a_team_logs_a_run_and_reads_it_back(wandb_env, client, team, alice, bob):
    result, completed = wandb_env("log_story.py", "example-team", key=api_key_for(alice))
    assert completed.returncode == 0, completed.stderr[-3000:]

    run = Run.objects.select_related("project__entity", "author").get(run_id=result["id"])
    assert run.project.path == "example-team/resnet"
    assert run.author == alice
    assert (run.name, run.notes) == ("baseline", "first try")
    assert (run.group, run.job_type) == ("g1", "train")
    assert run.tags == ["t1", "t2"]
    assert run.state == Run.State.FINISHED and run.exit_code == 0
    assert {k: v for k, v in run.config.items() if k != "_wandb"} == {
        "lr": 0.01,
        "epochs": 3,
        "arch": {"layers": 3},
    }
    assert run.summary["best"] == 0.99 and run.summary["loss"] == 1 / 30
    assert (run.git_commit, run.git_remote) == (
        wandb_env.commit,
        "https://github.com/example/resnet.git",
    )
    # Every point, with text values kept as they were logged.
    rows = history(run)
    assert [row["_step"] for row in rows] == list(range(30))
    assert [row["loss"] for row in rows] == [1 / (step + 1) for step in range(30)]
    assert all(row["phase"] == "warmup" and row["train/lr"] == 0.01 for row in rows)
    assert run.events_line_count >= 1
    # The client's prefix (the time, and "ERROR " on stderr) is taken apart from the text.
    console = {line.text: line for line in ConsoleLine.objects.filter(run=run)}
    assert console["hello from the training script"].stream == ConsoleLine.Stream.STDOUT
    assert console["a warning on stderr"].stream == ConsoleLine.Stream.STDERR
    assert all(line.logged_at for line in console.values())
    client.force_login(bob)
    page = client.get(run.get_absolute_url()).content.decode()
    assert ">hello from the training script</span>" in page
    assert ">a warning on stderr</span>" in page
    assert f"{run.created_at:%Y-%m-%d}T" not in page
    assert {
        "wandb-metadata.json",
        "requirements.txt",
        "output.log",
        "config.yaml",
        "src/utils.py",
    } <= set(run.files.exclude(uploaded_at=None).values_list("name", flat=True))
    # The file run.save() sent has its page, highlighted.
    args = [run.project.entity.name, run.project.name, run.run_id, "src/utils.py"]
    assert reverse("runs:file", args=args) in page
    saved = client.get(reverse("runs:file", args=args)).content.decode()
    assert '<span class="k">def</span>' in saved and "scale" in saved
    assert run.metadata["host"]
    # Three images over the first three steps, as the client stores and names them.
    images = [row["samples"] for row in rows if "samples" in row]
    assert [image["caption"] for image in images] == ["sample 0", "sample 1", "sample 2"]
    assert all(
        image["_type"] == "image-file"
        and image["path"].startswith(f"media/images/samples_{step}_")
        and (image["width"], image["height"], image["format"]) == (48, 32, "png")
        for step, image in enumerate(images)
    )
    stored = run.files.exclude(uploaded_at=None)
    assert {image["path"] for image in images} <= set(stored.values_list("name", flat=True))
    # The last of the three steps is on the page; the slider fetches the others.
    assert 'data-steps="[0, 1, 2]"' in page and ">sample 2</figcaption>" in page
    thumbnail = client.get(
        reverse(
            "runs:thumbnail",
            args=[run.project.entity.name, run.project.name, run.run_id, images[0]["path"]],
        )
    )
    assert thumbnail.status_code == 200
    red, green, blue = Image.open(io.BytesIO(thumbnail.content)).convert("RGB").getpixel((10, 10))
    assert red > 150 and green < 60 and blue < 60  # the first sample is red

    alert = Alert.objects.get(run=run)
    assert (alert.title, alert.level) == ("Loss low", Alert.Level.WARN)
    assert [message.to for message in mail.outbox] == [[alice.email]]
    assert "Loss low" in mail.outbox[0].subject

    artifact = Artifact.objects.get(collection__project=run.project, collection__name="mymodel")
    assert artifact.state == Artifact.State.COMMITTED and artifact.created_by_run == run
    assert set(artifact.aliases.values_list("alias", flat=True)) == {"best", "latest"}

    # A colleague reads it back.
    read, completed = wandb_env(
        "read_back.py", "example-team/resnet", run.run_id, key=api_key_for(bob), cache="bob-cache"
    )
    assert "error" not in read, read["error"]
    assert read["runs"] == [run.run_id]
    assert (read["filtered"], read["filtered_out"]) == ([run.run_id], [])
    assert (read["name"], read["state"], read["tags"]) == ("baseline", "finished", ["t1", "t2"])
    assert (read["notes"], read["group"], read["job_type"]) == ("first try", "g1", "train")
    assert read["config"] == {"lr": 0.01, "epochs": 3, "arch": {"layers": 3}}
    assert read["summary"]["best"] == 0.99
    assert [row["loss"] for row in read["history"]] == [1 / (step + 1) for step in range(30)]
    assert read["history"][5]["phase"] == "warmup"
    assert len(read["scanned"]) == 30
    assert read["scanned"][-1]["acc"] == 29 / 30
    assert len(read["sampled"]) == 10 and read["sampled"][0] == {"_step": 0, "loss": 1.0}
    assert read["system"] and any(key.startswith("system.") for key in read["system"][0])
    assert {"wandb-metadata.json", "output.log", "requirements.txt"} <= set(read["files"])
    assert read["artifact"]["version"] == "v0"
    assert read["artifact"]["files"] == {"model.bin": (bytes(range(256)) * 16).hex()}
    # bob is a member but not the author: run.update() is refused, nothing changes.
    assert "Only the run's author and admins can change it" in read["update_error"]
    run.refresh_from_db()
    assert run.tags == ["t1", "t2"]


def test_a_service_account_attributes_runs_to_the_member_it_names(
    wandb_env, team, bob, sam_and_key
):
    _, raw_key = sam_and_key
    result, completed = wandb_env("log_story.py", "example-team", key=raw_key, username="bob")
    assert completed.returncode == 0, completed.stderr[-3000:]
    run = Run.objects.get(run_id=result["id"])
    assert run.author == bob


def test_a_service_account_cannot_name_someone_outside_the_team(
    wandb_env, team, charlie, sam_and_key
):
    result, completed = wandb_env(
        "log_story.py", "example-team", key=sam_and_key[1], username="charlie"
    )
    assert completed.returncode != 0
    assert "“charlie” is not a member of example-team" in result["error"]
    assert not Run.objects.exists()


def test_a_user_key_cannot_log_to_a_team_it_is_not_in(wandb_env, team, charlie):
    result, completed = wandb_env("log_story.py", "example-team", key=api_key_for(charlie))
    assert completed.returncode != 0
    assert "You cannot log to “example-team”" in result["error"]
    assert not Run.objects.exists() and not Project.objects.filter(name="resnet").exists()


def test_a_script_without_entity_or_name_logs_to_the_default_entity_under_a_made_up_name(
    wandb_env, team, bob
):
    default_entity_set(user=bob, entity=team)
    result, completed = wandb_env(
        "log_story.py", "--unnamed", "--rename", "renamed-by-bob", key=api_key_for(bob)
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert result["entity"] == "example-team"
    run = Run.objects.get(run_id=result["id"])
    assert run.project.entity == team
    # The client learnt the name the server made up, and printed it.
    assert re.fullmatch(r"[a-z]+-[a-z]+-1", result["name"])
    assert f"View run {result['name']} at:" in completed.stdout + completed.stderr
    # Then bob, the author, renamed the run through wandb.Api().
    assert result["renamed"] == run.name == "renamed-by-bob"


def test_an_outsider_cannot_read_a_private_teams_runs(wandb_env, team, alice, charlie):
    logged, completed = wandb_env("log_story.py", "example-team", key=api_key_for(alice))
    assert completed.returncode == 0, completed.stderr[-3000:]
    read, _ = wandb_env(
        "read_back.py", "example-team/resnet", logged["id"], key=api_key_for(charlie), cache="c2"
    )
    assert "error" in read
    assert "baseline" not in json.dumps(read)


def test_nested_metrics_are_stored_flat_and_read_back_page_by_page(wandb_env, team, alice):
    result, completed = wandb_env("log_nested.py", "example-team", key=api_key_for(alice))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "error" not in result, result["error"]

    run = Run.objects.get(run_id=result["id"])
    rows = history(run)
    assert [row["train.loss"] for row in rows] == [1 / (step + 1) for step in range(10)]
    assert "train" not in rows[0]
    # A media value inside a nested dict stays one value under the flattened key.
    assert rows[0]["eval.page"]["_type"] == "html-file"
    # The summary is kept as the client sent it.
    assert run.summary["final"] == {"nested": {"x": 1}}

    assert [row["train.loss"] for row in result["history"]] == [1 / (s + 1) for s in range(10)]
    # Pages of two steps: every step once, in order.
    assert [row["_step"] for row in result["pages"]] == list(range(10))
    assert [row["train.acc"] for row in result["pages"]] == [step / 10 for step in range(10)]
    assert [row["_step"] for row in result["scanned"]] == list(range(10))
    assert result["scanned"][3]["lr"] == 0.1
    assert result["summary_x"] == 1


def test_projects_are_created_and_listed_and_a_runs_code_is_browsable(
    wandb_env, client, team, alice, bob
):
    result, completed = wandb_env("projects_and_code.py", "example-team", key=api_key_for(alice))
    assert "error" not in result, result["error"] + completed.stderr[-3000:]

    # create_project, twice for the same name, then more projects than a page of the listing.
    assert result["projects"] == ["extra-0", "extra-1", "extra-2", "extra-3", "extra-4", "vision"]
    assert result["project"] == {"name": "vision", "entity": "example-team"}
    assert Project.objects.get(entity=team, name="vision").created_by == alice
    # log_code("."): a "code" artifact named after the project and the program.
    assert result["code_artifact"].startswith("source-vision-")
    code = Artifact.objects.select_related("collection").get(collection__type="code")
    assert code.created_by_run.run_id == result["run_id"]
    assert {"train.py", "lib/utils.py"} <= set(code.files.values_list("name", flat=True))
    # len(run.files()) counts every file, over pages of two.
    assert result["files_len"] == len(result["files"]) > 2
    assert "lib/utils.py" in result["files"]
    # update_state: running -> failed, then failed -> failed is refused.
    assert (result["update_state"], result["state_after"]) == (True, "failed")
    assert "invalid state transition" in result["update_state_again"]
    # wandb artifact ls lists the code artifact's latest version.
    assert result["artifact_ls"]["code"] == 0, result["artifact_ls"]["out"]
    assert f"{code.collection.name}:v0" in result["artifact_ls"]["out"]

    # The run page shows the saved code; each file opens highlighted.
    run = Run.objects.get(run_id=result["run_id"])
    client.force_login(bob)
    page = client.get(run.get_absolute_url()).content.decode()
    url = reverse("runs:code", args=["example-team", "vision", run.run_id, "lib/utils.py"])
    assert f'href="{url}"' in page
    assert '<span class="k">def</span>' in client.get(url).content.decode()


def test_a_model_is_linked_into_the_registry_and_only_an_admin_promotes_it(
    wandb_env, team, alice, bob
):
    result, completed = wandb_env("registry.py", "example-team", "log", key=api_key_for(bob))
    assert completed.returncode == 0, completed.stderr[-3000:]

    assert result["linked"] == {
        "is_link": True,
        "version": "v0",
        "source": "example-team/training/resnet:v0",
        "collection": "classifier",
    }
    assert result["memberships"] == [
        "example-team/model-registry/classifier:v0",
        "example-team/model-registry/scratch:v0",
    ]
    # bob is a member: production is not his to move.
    assert "Only admins of example-team can move" in result["promote"]["error"]
    assert not AliasMove.objects.filter(alias="production").exists()

    result, completed = wandb_env("registry.py", "example-team", "promote", key=api_key_for(alice))
    assert completed.returncode == 0, completed.stderr[-3000:]

    assert result["production"] == {"version": "v0", "source": "resnet:v0"}
    assert (result["scratch_exists"], result["source_exists"]) == (False, True)
    move = AliasMove.objects.get(alias="production")
    assert (move.moved_by, move.from_version_index, move.to_version_index) == (alice, None, 0)


def test_shards_drafts_and_collection_edits_through_the_client(wandb_env, team, alice):
    result, completed = wandb_env("artifact_workflows.py", "example-team", key=api_key_for(alice))
    assert completed.returncode == 0, completed.stderr[-3000:]

    assert result["corpus"] == {"version": "v0", "files": ["shard-a.txt", "shard-b.txt"]}
    assert result["corpus_downloaded"] == ["shard-a.txt", "shard-b.txt"]
    assert result["grown"] == {
        "version": "v1",
        "files": ["shard-a.txt", "shard-b.txt", "shard-c.txt"],
    }
    assert result["grown_shard_a"] == "rows of shard a\n"
    assert result["collection"] == {
        "name": "corpus-v2",
        "type": "training-data",
        "description": "Both shards and the third.",
        "tags": ["curated", "text"],
        "aliases": ["latest"],
    }
    assert result["tags_after_removal"] == ["text"]
    assert result["latest_type"] == "training-data"
    shards = Artifact.objects.get(collection__name="corpus-v2", version_index=0)
    assert shards.logged_by.count() == 2  # the second shard's run and the finisher


def test_reports_are_listed_by_the_client_for_those_who_read_them(wandb_env, team, alice, charlie):
    project = project_create(entity=team, name="vision", creator=alice)
    for run_id in ("r1", "r2", "r3"):
        RunFactory(project=project, run_id=run_id, author=alice)
    kind = ReportBlock.Kind
    made = []
    for n in range(3):
        report = report_services.report_create(project=project, title=f"Week {n}", actor=alice)
        report_services.block_add(
            report=report, kind=kind.TEXT, config={"markdown": f"# Summary {n}\n\nMore."}
        )
        report_services.block_add(
            report=report,
            kind=kind.RUNS_TABLE,
            config={"runs": {"ids": ["r1", "r3"]}, "columns": ["summary.loss"]},
        )
        report_services.report_publish(report=report, actor=alice)
        made.append(report)
    report_services.report_create(project=project, title="Draft", actor=alice)

    result, completed = wandb_env(
        "reports.py", "example-team/vision", made[1].key, key=api_key_for(alice)
    )
    assert "error" not in result, result["error"] + completed.stderr[-3000:]
    assert result["titles"] == ["Draft", "Week 2", "Week 1", "Week 0"]
    assert result["paged"] == result["titles"]  # per_page=2: two pages
    assert result["named"] == ["Week 1"]
    week_0 = result["reports"][3]
    assert week_0["name"] == made[0].key
    assert week_0["description"] == "Summary 0"
    assert week_0["user"]["username"] == "alice"
    assert week_0["spec_blocks"] == ["text", "runs_table"]
    assert week_0["sections"] == 1 and week_0["section_runs"] == ["r1", "r3"]
    assert week_0["url"].endswith(
        "/example-team/vision/reports/Week-0--" + week_0["id"].rstrip("=")
    )

    # Another team's private project is, to the client, a project that does not exist.
    read, _ = wandb_env("reports.py", "example-team/vision", key=api_key_for(charlie), cache="c2")
    assert read["error"] == "ValueError: Project vision does not exist under entity example-team"


def test_a_viewer_reads_runs_but_cannot_log_to_the_team(wandb_env, team, alice, vera):
    logged, completed = wandb_env("log_story.py", "example-team", key=api_key_for(alice))
    assert completed.returncode == 0, completed.stderr[-3000:]
    read, _ = wandb_env(
        "read_back.py", "example-team/resnet", logged["id"], key=api_key_for(vera), cache="v1"
    )
    assert "error" not in read, read["error"]
    assert read["runs"] == [logged["id"]]
    assert read["name"] == "baseline"
    assert "Only the run's author and admins can change it" in read["update_error"]

    result, completed = wandb_env("log_story.py", "example-team", key=api_key_for(vera))
    assert completed.returncode != 0
    assert "You are a viewer in example-team; viewers cannot log runs." in result["error"]
    assert list(Run.objects.values_list("run_id", flat=True)) == [logged["id"]]

    # Without entity=, the client logs to her default entity: her own, never the team.
    result, completed = wandb_env("log_story.py", "--unnamed", key=api_key_for(vera), cache="v2")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert result["entity"] == "vera"
