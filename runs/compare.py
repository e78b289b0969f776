"""The run comparer: a few runs side by side, one row per config and summary key.

Pure functions over runs already read (one query for all of them), so a comparison costs the same
whatever the number of runs and keys. Values keep their JSON; only the display is formatted.
"""

import json
import math
import re
from dataclasses import dataclass, field

from .media.kinds import kind_of

MIN_RUNS = 2
MAX_RUNS = 20

# A summary key that names one of these is a cost: lower is better. Anything else (accuracy, F1,
# reward, ...) is better higher. Matched on the words of the key's last part.
_LOWER_WORDS = {"err", "mse", "mae", "rmse", "mape", "perplexity", "ppl", "wer", "cer", "nll"}
_LOWER_PARTS = ("loss", "error")
_MEDIA_LABELS = {"object3d": "3D object"}


class CompareError(ValueError):
    """The runs asked for cannot be compared: too few, too many, or unknown."""


def run_ids_from(values: list[str]) -> list[str]:
    """The run ids a request names, in order, once each; CompareError outside 2..MAX_RUNS."""
    ids = list(dict.fromkeys(value.strip() for value in values if value.strip()))
    if len(ids) < MIN_RUNS:
        raise CompareError(f"Pick at least {MIN_RUNS} runs to compare.")
    if len(ids) > MAX_RUNS:
        raise CompareError(f"Compare at most {MAX_RUNS} runs at a time; {len(ids)} were picked.")
    return ids


def in_order(runs, run_ids: list[str]) -> list:
    """The runs in the order they were asked for; CompareError naming the ids not found (a run
    of another project is not found either)."""
    by_id = {run.run_id: run for run in runs}
    missing = [run_id for run_id in run_ids if run_id not in by_id]
    if missing:
        names = ", ".join(run_id[:64] for run_id in missing[:5]) + (
            " …" if len(missing) > 5 else ""
        )
        raise CompareError(f"This project has no run {names}.")
    return [by_id[run_id] for run_id in run_ids]


def flatten(data) -> dict:
    """A config or summary as {dotted key: value}: nested objects by their path, a logged medium
    or object with a `_type` as one value, top-level `_` keys (`_wandb`, `_step`) left out.

    Two keys can name the same path (`{"a.b": 1, "a": {"b": 2}}`): the one written with fewer
    levels wins, as the runs table looks a dotted key up as written first."""
    if not isinstance(data, dict):
        return {}
    found: dict[str, tuple[int, object]] = {}
    stack = [(str(key), value, 0) for key, value in data.items() if not str(key).startswith("_")]
    stack.reverse()
    while stack:  # iterative: a deeply nested config must not exhaust the recursion limit
        path, value, depth = stack.pop()
        if isinstance(value, dict) and value and "_type" not in value:
            children = [(f"{path}.{key}", child, depth + 1) for key, child in value.items()]
            stack.extend(reversed(children))
        elif path not in found or depth < found[path][0]:
            found[path] = (depth, value)
    return {path: value for path, (_, value) in found.items()}


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_key(value):
    """What equality means between cells: 1 and 1.0 are the same number, True is not 1, NaN is
    NaN, and lists and objects are equal when their JSON is."""
    if isinstance(value, bool):
        return ("bool", value)
    if is_number(value):
        return ("nan",) if isinstance(value, float) and math.isnan(value) else ("number", value)
    if isinstance(value, str):
        return ("text", value)
    if value is None:
        return ("null",)
    return ("json", _json(value))


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, default=str, allow_nan=True)


def display(value) -> str:
    """A value as a cell shows it: numbers short, media as what they are ("image", "table")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        if abs(value) < 10**15:
            return str(value)
        try:
            return f"{float(value):.6g}"
        except OverflowError:  # beyond a float: its order of magnitude says enough
            return f"{'-' if value < 0 else ''}~1e{int(abs(value).bit_length() * math.log10(2))}"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "_type" in value:
        kind = kind_of(value)
        if kind:
            return _MEDIA_LABELS.get(kind, kind)
        return str(value["_type"]).removesuffix("-file")[:40] or "object"
    return _json(value)


def lower_is_better(key: str) -> bool:
    words = re.split(r"[^a-z0-9]+", key.rsplit(".", 1)[-1].rsplit("/", 1)[-1].lower())
    return any(w in _LOWER_WORDS or any(p in w for p in _LOWER_PARTS) for w in words)


@dataclass
class Cell:
    value: object = None
    missing: bool = True
    text: str = "—"
    full: str = ""  # the whole value, for a tooltip when the cell shortens it
    numeric: bool = False
    differs: bool = False  # from the first run's value
    best: bool = False


@dataclass
class Row:
    key: str
    cells: list[Cell]
    same: bool  # every run holds the same value (none missing)
    lower_better: bool | None = None  # set on summary rows that mark a best value


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    hidden: int = 0  # rows left out by "only differences"


def _cell(data: dict, key: str) -> Cell:
    if key not in data:
        return Cell()
    value = data[key]
    text = display(value)
    full = value if isinstance(value, str) else _json(value)
    if isinstance(value, dict) and "_type" in value:
        full = ""  # a medium's reference (paths, digests) means nothing beside its label
    return Cell(value=value, missing=False, text=text, full=full, numeric=is_number(value))


def _finite(number) -> bool:
    # Ints are finite whatever their size; math.isfinite would overflow on a huge one.
    return isinstance(number, int) or math.isfinite(number)


def _mark_best(row: Row) -> None:
    numbers = [cell for cell in row.cells if cell.numeric and _finite(cell.value)]
    if len(numbers) < 2 or len({cell.value for cell in numbers}) < 2:
        return
    row.lower_better = lower_is_better(row.key)
    pick = min if row.lower_better else max
    best = pick(cell.value for cell in numbers)
    for cell in numbers:
        cell.best = cell.value == best


def build_rows(flat: list[dict], *, mark_best: bool) -> list[Row]:
    """One row per key any run holds, sorted; flat is each run's flattened data, in order."""
    keys = sorted(set().union(*flat))
    rows = []
    for key in keys:
        cells = [_cell(data, key) for data in flat]
        marks = [None if cell.missing else _same_key(cell.value) for cell in cells]
        for cell, mark in zip(cells, marks, strict=True):
            cell.differs = mark != marks[0]
        row = Row(key=key, cells=cells, same=len(set(marks)) == 1)
        if mark_best:
            _mark_best(row)
        rows.append(row)
    return rows


def comparison(runs: list, *, only_differences: bool = False) -> list[Section]:
    """The Config and Summary sections of a comparison of `runs`, in their order."""
    sections = []
    for title, attribute in (("Config", "config"), ("Summary", "summary")):
        flat = [flatten(getattr(run, attribute)) for run in runs]
        rows = build_rows(flat, mark_best=attribute == "summary")
        section = Section(title=title, rows=rows)
        if only_differences:
            section.rows = [row for row in rows if not row.same]
            section.hidden = len(rows) - len(section.rows)
        sections.append(section)
    return sections
