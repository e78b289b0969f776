"""Media of several runs side by side, for the project workspace: one row per media key, each run
that logged the key showing its media, and one step slider per row that moves every run of the
row together (each shows its nearest logged step at or below the chosen one, since runs rarely
log media at the same steps). Three queries whatever the runs, keys and steps."""

import json
from bisect import bisect_right
from dataclasses import dataclass

from runs.models import MetricKey, RichValue, Run, RunFile

from .kinds import MEDIA_TYPES, kind_of, media_items
from .panels import MediaPanel

# Rows beyond these are not drawn (a note says how many): each row is one image or table per
# run, and the values of every shown (run, key) are read in one query with three parameters each.
MAX_MEDIA_ROWS = 50


@dataclass
class WorkspaceMediaCell:
    run: Run
    # None when the run logged this key only after the chosen step.
    panel: MediaPanel | None


@dataclass
class WorkspaceMediaRow:
    key: str
    steps: list[int]  # every step at which any of the runs logged this key
    step: int  # the chosen step
    cells: list[WorkspaceMediaCell]

    @property
    def index(self) -> int:
        """Where the slider stands: the last logged step at or below the chosen one."""
        return max(bisect_right(self.steps, self.step) - 1, 0)

    @property
    def last(self) -> int:
        return len(self.steps) - 1

    @property
    def steps_json(self) -> str:
        return json.dumps(self.steps)


@dataclass
class WorkspaceMedia:
    rows: list[WorkspaceMediaRow]
    hidden_keys: int = 0  # media keys beyond MAX_MEDIA_ROWS


def _at_or_below(steps: list[int], step: int) -> int | None:
    position = bisect_right(steps, step)
    return steps[position - 1] if position else None


def _logged_steps(runs: list[Run], key: str | None) -> dict[str, tuple[int, dict[int, list]]]:
    """{key name: (key id, {run pk: [steps, ascending]})}, keys in name order: one query."""
    values = RichValue.objects.filter(
        run__in=[run.pk for run in runs],
        key__stream=MetricKey.Stream.HISTORY,
        value___type__in=MEDIA_TYPES,
    )
    if key is not None:
        values = values.filter(key__name=key)
    rows = values.values_list("key__name", "key_id", "run_id", "step").order_by(
        "key__name", "run_id", "step"
    )
    logged: dict[str, tuple[int, dict[int, list]]] = {}
    for name, key_id, run_pk, step in rows:
        logged.setdefault(name, (key_id, {}))[1].setdefault(run_pk, []).append(step)
    return logged


def _values(shown: dict[tuple[int, int], int]) -> dict[tuple[int, int], dict]:
    """The logged values at the shown steps ({(run pk, key id): step}): one query."""
    if not shown:
        return {}
    # The primary key (run, key, step) as one tuple lookup builds far faster than a Q object
    # per value; the three IN lists let SQLite search the key's index, not scan the table.
    wanted = [(run, key, step) for (run, key), step in shown.items()]
    rows = RichValue.objects.filter(
        run__in={run for run, _, _ in wanted},
        key__in={key for _, key, _ in wanted},
        step__in={step for _, _, step in wanted},
        pk__in=wanted,
    ).values_list("run_id", "key_id", "value")
    return {(run, key): value for run, key, value in rows}


def _attach_files(cells: list[WorkspaceMediaCell]) -> None:
    """Point each item at its uploaded run file: one query for every run and key."""
    names = {item.name for cell in cells for item in cell.panel.items}
    if not names:
        return
    runs = {cell.run.pk for cell in cells}
    uploaded = RunFile.objects.filter(run__in=runs, name__in=names).exclude(uploaded_at=None)
    files = {(file.run_id, file.name): file for file in uploaded}
    for cell in cells:
        for item in cell.panel.items:
            item.file = files.get((cell.run.pk, item.name))


def workspace_media(runs, key: str | None = None, step: int | None = None) -> WorkspaceMedia:
    """A row for each media key the runs logged (or for `key` alone), each at `step` (by
    default the last step any of them logged), the runs in the order given."""
    runs = list(runs)
    logged = _logged_steps(runs, key) if runs else {}
    names = list(logged)[:MAX_MEDIA_ROWS]
    hidden = len(logged) - len(names)
    plan = []  # (name, key id, steps of the row, chosen step, [(run, its steps, shown step)])
    shown: dict[tuple[int, int], int] = {}
    for name in names:
        key_id, steps_of_run = logged[name]
        row_steps = sorted(set().union(*steps_of_run.values()))
        chosen = row_steps[-1] if step is None else step
        runs_of_row = []
        for run in runs:
            steps = steps_of_run.get(run.pk)
            if steps is None:
                continue  # this run never logged the key: no empty column for it
            at = _at_or_below(steps, chosen)
            if at is not None:
                shown[(run.pk, key_id)] = at
            runs_of_row.append((run, steps, at))
        plan.append((name, key_id, row_steps, chosen, runs_of_row))

    values = _values(shown)
    rows, filled = [], []
    for name, key_id, row_steps, chosen, runs_of_row in plan:
        cells = []
        for run, steps, at in runs_of_row:
            value = values.get((run.pk, key_id))
            kind = kind_of(value)
            panel = None
            if kind is not None:
                panel = MediaPanel(name, kind, steps, at, value, media_items(value))
            cells.append(WorkspaceMediaCell(run, panel))
        filled += [cell for cell in cells if cell.panel is not None]
        rows.append(WorkspaceMediaRow(name, row_steps, chosen, cells))
    _attach_files(filled)
    return WorkspaceMedia(rows, hidden)
