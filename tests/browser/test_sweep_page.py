"""A sweep's page in a real browser: the parallel coordinates figure is drawn, and its author
pauses the sweep with the button, after which the state badge says so. Screenshots go to
/tmp/sweeps/."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from projects.services import project_create
from runs.models import Run
from sweeps import services
from sweeps.models import Sweep
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/sweeps")
CONFIG = """\
method: random
metric: {name: loss, goal: minimize}
parameters:
  lr: {min: 0.001, max: 0.1}
  layers: {values: [1, 2, 3]}
"""


def test_author_pauses_the_sweep_from_its_page(page, login, team, alice, bob, browser_errors):
    project = project_create(entity=team, name="tuning", creator=alice)
    sweep = services.sweep_create(
        actor=bob, project=project, config_yaml=CONFIG, display_name="lr search"
    )
    for index in range(6):
        run = RunFactory(
            project=project,
            run_id=f"run{index}",
            config={"lr": 0.01 * (index + 1), "layers": 1 + index % 3},
            summary={"loss": 1 / (index + 2)},
        )
        services.link_run(run=run, sweep_name=sweep.name)
    login(page.context, bob)
    page.goto(reverse("sweeps:detail", args=[team.name, project.name, sweep.name]))

    expect(page.locator("#sweep-state")).to_have_text("Pending")
    expect(page.locator('#sweep-parallel [data-query-panel][data-drawn="1"]')).to_have_count(1)
    expect(page.locator("#agent-command")).to_have_text(
        f"wandb agent {team.name}/{project.name}/{sweep.name}"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "detail.png", full_page=True)

    page.get_by_role("button", name="Pause").click()

    expect(page.locator("#sweep-state")).to_have_text("Paused")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    assert Sweep.objects.get(pk=sweep.pk).state == Sweep.State.PAUSED
    assert Run.objects.filter(sweep_link__sweep=sweep).count() == 6
    page.screenshot(path=SHOTS / "paused.png", full_page=True)
