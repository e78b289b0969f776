"""At phone width (390 px) no page scrolls sideways: the top bar wraps, the team sidebar stacks
above its content, charts shrink to the screen and wide tables scroll inside their own box."""

import json

import pytest
from playwright.sync_api import expect

from projects.services import project_create
from runs.ingest import apply_file_stream, parse_file_stream
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def resnet(team, alice, bob):
    """A project like the demo's: a few runs with long names, tags and config, one of them with
    metrics, system metrics and console output ingested like the wandb client's file_stream."""
    project = project_create(
        entity=team, name="resnet", creator=alice, description="Image classification sweeps."
    )
    runs = [
        RunFactory(
            project=project,
            author=alice if index % 2 else bob,
            name=f"curious-valley-{index:03d}",
            tags=["baseline", "sweep-lr"],
            config={"lr": 0.0003, "epochs": 16, "optimizer": "adamw"},
            summary={"train/loss": 0.1953, "val/accuracy": 0.8711, "val/loss": 0.2967},
        )
        for index in range(5)
    ]
    run = runs[0]
    start = run.created_at.timestamp()
    history = [
        {"_step": step, "_runtime": step * 2.0, "_timestamp": start + step * 2.0}
        | {"train/loss": 2 / (step + 1), "val/accuracy": step / 50, "epoch": step // 10}
        for step in range(50)
    ]
    events = [
        {"_runtime": s * 10.0, "_timestamp": start + s * 10.0, "system.cpu": 50.0 + s}
        | {"system.gpu.0.gpu": 90.0, "system.network.sent": s * 2e6}
        for s in range(10)
    ]
    console = [
        f"Epoch {i}/16: train/loss 0.{i:04d} val/loss 0.{i:04d} val/accuracy 0.8" for i in range(20)
    ]
    update = parse_file_stream(
        {
            "files": {
                "wandb-history.jsonl": {"offset": 0, "content": [json.dumps(r) for r in history]},
                "wandb-events.jsonl": {"offset": 0, "content": [json.dumps(r) for r in events]},
                "output.log": {"offset": 0, "content": console},
            }
        }
    )
    apply_file_stream(run, update)
    return project


def test_no_page_scrolls_sideways_at_phone_width(page, login, resnet, alice):
    login(page.context, alice)
    page.set_viewport_size(PHONE)
    run = resnet.runs.order_by("created_at").first()
    pages = [
        "/",
        f"/{resnet.entity.name}/",
        resnet.get_absolute_url(),
        run.get_absolute_url(),
        f"/teams/{resnet.entity.name}/members/",
    ]
    widths = {}
    for url in pages:
        page.goto(url)
        if url == resnet.get_absolute_url():
            expect(page.locator("[data-workspace-panel] .main-svg").first).to_be_visible()
        if url == run.get_absolute_url():
            expect(page.locator('[data-chart][data-key="train/loss"]')).to_have_attribute(
                "data-loaded", "50"
            )
            expect(page.locator("[data-chart] .main-svg").first).to_be_visible()
        widths[url] = page.evaluate("document.documentElement.scrollWidth")
    assert widths == dict.fromkeys(pages, PHONE["width"])
