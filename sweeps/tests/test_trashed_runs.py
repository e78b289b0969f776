"""A sweep's run counts leave out its runs that are in the trash."""

import pytest

from runs import services as run_services
from runs.models import Run
from sweeps import services
from sweeps.models import SweepRun
from sweeps.page_selectors import sweep_agents, sweeps_with_counts
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db

CONFIG = """\
method: random
metric: {name: acc, goal: maximize}
parameters:
  lr: {values: [0.1, 0.2]}
"""


def test_a_sweeps_run_count_leaves_trashed_runs_out(project, alice):
    sweep = services.sweep_create(actor=alice, project=project, config_yaml=CONFIG)
    for run_id in ["kept", "gone"]:
        run = RunFactory(project=project, run_id=run_id, author=alice)
        SweepRun.objects.create(sweep=sweep, run=run, run_name=run_id, params={})
    SweepRun.objects.create(sweep=sweep, run_name="not-started", params={})
    assert sweeps_with_counts(project).get().run_count == 2

    run_services.runs_delete(
        actor=alice, project=project, runs=Run.objects.filter(project=project, run_id="gone")
    )

    assert sweeps_with_counts(project).get().run_count == 1
    assert list(sweep_agents(sweep)) == []
