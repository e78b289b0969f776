import pytest

from sweeps import services
from tests.factories import ProjectFactory

GRID_2X3 = """\
method: grid
program: train.py
metric:
  name: loss
  goal: minimize
parameters:
  lr:
    values: [0.1, 0.01]
  layers:
    values: [1, 2, 3]
"""

RANDOM = """\
method: random
parameters:
  lr:
    min: 0.001
    max: 0.1
"""


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="tuning")


@pytest.fixture
def make_sweep(project, bob):
    def make(config_yaml=GRID_2X3, actor=None, **kwargs):
        return services.sweep_create(
            actor=actor or bob, project=project, config_yaml=config_yaml, **kwargs
        )

    return make
