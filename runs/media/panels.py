"""The run page's media panels: one per media key, showing one step at a time (the last one
first); the step slider asks for the others one by one, so a run that logged thousands of media
steps costs the page no more than one that logged a single step."""

import json
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Q

from runs.models import MetricKey, RichValue, Run

from .histograms import Heatmap, attach_heatmaps
from .kinds import MEDIA_TYPES, MediaItem, attach_files, kind_of, media_items


@dataclass
class MediaPanel:
    key: str
    kind: str
    steps: list[int]
    step: int
    value: dict
    items: list[MediaItem] = field(default_factory=list)
    heatmap: Heatmap | None = None  # histograms on the run page: every step at once

    @property
    def index(self) -> int:
        """Where the slider stands: the position of the shown step among the logged ones."""
        return self.steps.index(self.step)

    @property
    def last(self) -> int:
        return len(self.steps) - 1

    @property
    def steps_json(self) -> str:
        return json.dumps(self.steps)

    @property
    def template(self) -> list[str]:
        """The kind's own template, else the generic one that lists the files."""
        return [f"runs/media/_{self.kind}.html", "runs/media/_files.html"]


def _media_values(run: Run):
    return RichValue.objects.filter(
        run=run, key__stream=MetricKey.Stream.HISTORY, value___type__in=MEDIA_TYPES
    )


def _panels(run: Run, steps_by_key: dict, shown: dict) -> list[MediaPanel]:
    """Panels of the keys in `steps_by_key` ({key id: (name, [steps])}) at the steps in `shown`
    ({key id: step}): one query for the values shown, one for their files."""
    if not shown:
        return []
    wanted = reduce(or_, (Q(key_id=key_id, step=step) for key_id, step in shown.items()))
    values = dict(RichValue.objects.filter(run=run).filter(wanted).values_list("key_id", "value"))
    panels = []
    for key_id, (name, steps) in steps_by_key.items():
        value = values.get(key_id)
        kind = kind_of(value)
        if kind is None:
            continue
        panels.append(MediaPanel(name, kind, steps, shown[key_id], value, media_items(value)))
    attach_files(run, [item for panel in panels for item in panel.items])
    return panels


def media_panels(run: Run) -> list[MediaPanel]:
    """Every media key of the run, each at its last step: three queries whatever the keys and
    steps, and one more for the heat maps when there are histograms."""
    rows = (
        _media_values(run).values_list("key_id", "key__name", "step").order_by("key__name", "step")
    )
    steps_by_key: dict[int, tuple[str, list[int]]] = {}
    for key_id, name, step in rows:
        steps_by_key.setdefault(key_id, (name, []))[1].append(step)
    shown = {key_id: steps[-1] for key_id, (_, steps) in steps_by_key.items()}
    panels = _panels(run, steps_by_key, shown)
    attach_heatmaps(run, panels)
    return panels


def media_panel(run: Run, key: str, step: int | None) -> MediaPanel | None:
    """One media key of the run at one logged step (None: the last one); None if the key
    logged no media there. Three queries."""
    rows = list(
        _media_values(run).filter(key__name=key).order_by("step").values_list("key_id", "step")
    )
    steps = [step for _, step in rows]
    if step is None and steps:
        step = steps[-1]
    if step not in steps:
        return None
    key_id = rows[0][0]
    panels = _panels(run, {key_id: (key, steps)}, {key_id: step})
    return panels[0] if panels else None


# plotly.js's partial bundles (teamsite/lib/staticfinders.py): basic draws scatter, bar and pie
# traces; cartesian adds heat maps and histograms, and takes twice as long to start. A figure
# holding any other trace type fetches the full bundle (static/js/plotly_config.js).
PLOTLY_BASIC = "vendor/plotly-basic.min.js"
PLOTLY_CARTESIAN = "vendor/plotly-cartesian.min.js"


def plotly_bundle(panels: list[MediaPanel], has_custom_charts: bool) -> str:
    """The smallest plotly.js bundle that draws what a run page shows: metric lines and histogram
    bars need the basic one; histograms' heat maps over steps and custom charts (histograms,
    confusion matrices) the cartesian one."""
    if has_custom_charts or any(panel.heatmap for panel in panels):
        return PLOTLY_CARTESIAN
    return PLOTLY_BASIC
