"""A frozen report in a real browser: the author freezes the run sets of a report with a runs
table, a leaderboard, a scatter and a parallel coordinates panel, publishes, a new matching
run is logged, and the page stays as it was; unfrozen and published again, it shows the new
run. The report's image panel loads its picture through a signed link, which a visitor
without a session can open too. Screenshots go to /tmp/reports-shots/."""

import io
import json
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from artifacts.models import Artifact, ArtifactAlias, ArtifactCollection
from projects.services import project_create
from reports import services
from reports.models import ReportBlock
from runs.ingest import apply_file_stream, parse_file_stream
from runs.models import RunFile
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/reports-shots")
QUERY = {"query": 'tags has "sweep"'}
Kind = ReportBlock.Kind


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def sweep_run(project, bob, name, lr, acc):
    run = RunFactory(project=project, name=name, author=bob, tags=["sweep"])
    run.config = {"lr": lr, "batch": 32 if lr < 0.05 else 64}
    run.summary = {"acc": acc}
    run.save(update_fields=["config", "summary"])
    return run


def log_image(run):
    name = "media/images/samples_0_a.png"
    data = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(data, "PNG")
    RunFile.objects.create(
        run=run,
        name=name,
        storage_name=default_storage.save(
            f"browser/{run.run_id}.png", ContentFile(data.getvalue())
        ),
        size=len(data.getvalue()),
        uploaded_at=timezone.now(),
    )
    value = {"_type": "image-file", "path": name, "caption": "a blue square", "width": 40}
    line = json.dumps({"_step": 0, "samples": value})
    payload = {"files": {"wandb-history.jsonl": {"offset": 0, "content": [line]}}}
    apply_file_stream(run, parse_file_stream(payload))


@pytest.fixture
def sweep(team, alice, bob):
    project = project_create(entity=team, name="sweep", creator=alice)
    first = sweep_run(project, bob, "calm-lake", 0.01, 0.7)
    sweep_run(project, bob, "quick-fox", 0.1, 0.8)
    log_image(first)
    collection = ArtifactCollection.objects.create(project=project, name="weights", type="model")
    version = Artifact.objects.create(
        collection=collection,
        version_index=0,
        digest="0" * 32,
        state=Artifact.State.COMMITTED,
        created_by_run=first,
        size=4096,
        file_count=2,
        metadata={"epochs": 10},
    )
    ArtifactAlias.objects.create(collection=collection, artifact=version, alias="latest")
    report = services.report_create(project=project, title="Sweep results", actor=bob)
    for kind, config in [
        (Kind.RUNS_TABLE, {"runs": QUERY, "columns": ["summary.acc"], "sort": "-summary.acc"}),
        (Kind.LEADERBOARD, {"runs": QUERY, "metric": "summary.acc", "columns": ["config.lr"]}),
        (Kind.SCATTER, {"runs": QUERY, "x": "config.lr", "y": "summary.acc"}),
        (Kind.PARALLEL_COORDINATES, {"runs": QUERY, "columns": ["config.lr", "summary.acc"]}),
        (Kind.MEDIA, {"run": first.run_id, "key": "samples"}),
        (Kind.ARTIFACT, {"artifact": "weights:latest"}),
        (Kind.ARTIFACT, {"artifact": "weights:v7"}),
    ]:
        services.block_add(report=report, kind=kind, config=config)
    return project, report


def table_names(page):
    return page.locator(".report-runs tbody tr td:first-child").all_inner_texts()


def test_a_frozen_report_keeps_its_runs_until_unfrozen(
    page, new_context, login, bob, sweep, browser_errors
):
    project, report = sweep
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(report.get_edit_url())
    page.get_by_role("button", name="Freeze run sets").click()
    expect(page.locator(".frozen-note").first).to_contain_text("2 runs")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#version-line")).to_contain_text("Version 1")

    for chart in page.locator(".chart").all():
        expect(chart).to_have_attribute("data-drawn", "1")
    expect(page.locator(".report-leaderboard tbody tr")).to_have_count(2)
    expect(page.locator(".report-leaderboard tbody tr").first).to_contain_text("quick-fox")
    image = page.locator(".report-media img")
    expect(image).to_have_attribute("alt", "a blue square")
    page.wait_for_function("document.querySelector('.report-media img').naturalWidth > 0")
    expect(page.locator(".report-card")).to_contain_text("weights:v0")
    expect(page.locator(".query-error")).to_contain_text("no artifact weights")
    shot(page, "frozen-1-published")
    assert table_names(page) == ["quick-fox", "calm-lake"]

    # A visitor without a session opens the image's signed link (the project is private).
    anonymous = new_context().new_page()
    response = anonymous.request.get(image.get_attribute("src"))
    assert response.status == 200 and response.headers["content-type"] == "image/webp"

    sweep_run(project, bob, "late-star", 0.05, 0.95)
    page.reload()
    expect(page.locator(".report-leaderboard tbody tr")).to_have_count(2)
    assert table_names(page) == ["quick-fox", "calm-lake"]
    expect(page.locator("#report-body")).not_to_contain_text("late-star")
    scatter = page.locator("[data-block-kind=scatter] .chart")
    expect(scatter).to_have_attribute("data-drawn", "1")
    assert scatter.locator(".point").count() == 2

    page.goto(report.get_edit_url())
    page.get_by_role("button", name="Unfreeze").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#version-line")).to_contain_text("Version 2")
    assert table_names(page) == ["late-star", "quick-fox", "calm-lake"]
    expect(page.locator(".report-leaderboard tbody tr").first).to_contain_text("late-star")
    expect(page.locator(".frozen-note")).to_have_count(0)
    scatter = page.locator("[data-block-kind=scatter] .chart")
    expect(scatter).to_have_attribute("data-drawn", "1")
    expect(scatter.locator(".point")).to_have_count(3)
    shot(page, "frozen-2-unfrozen")
