"""The index of config and summary values (RunValue): one row per run and key, named as the
runs query language names keys, so that filtering, sorting and grouping a project's runs by
any key reads an index instead of the JSON of every run.

Names: a top-level key by its own name, whatever it holds (`val/acc`, `a.b` logged as one
name); a nested key by the dotted path to it (`final.loss`) when no part of the path holds a
dot itself. Where a top-level key and a path give the same name, the key as written wins, as
the query compiler looks it up. Objects and lists are indexed by their kind, and the keys
inside objects by their own paths."""

import math
from collections.abc import Iterable

from django.db import transaction

from .models import MetricKey, Run, RunValue

COLUMNS = {"config": MetricKey.Stream.CONFIG, "summary": MetricKey.Stream.SUMMARY}
MAX_NAME = 512  # MetricKey.name; a longer name is looked up in the JSON itself
INDEXED_TEXT = 400  # RunValue.text: longer text is indexed by its beginning
MAX_DEPTH = 20
BATCH = 1000


def indexable_name(name: str) -> bool:
    return 0 < len(name) <= MAX_NAME


def flat_values(data) -> dict[str, object]:
    """{name: value} of a config or summary, every key and nested key by its query name."""
    if not isinstance(data, dict):
        return {}
    found = {}
    nested = {}

    def walk(obj, prefix, depth):
        for key, value in obj.items():
            if not isinstance(key, str) or not key or "." in key:
                continue
            name = f"{prefix}.{key}"
            nested.setdefault(name, value)
            if isinstance(value, dict) and depth < MAX_DEPTH:
                walk(value, name, depth + 1)

    for key, value in data.items():
        if isinstance(key, str) and key:
            found[key] = value
            if isinstance(value, dict) and "." not in key:
                walk(value, key, 1)
    for name, value in nested.items():
        found.setdefault(name, value)
    return {name: value for name, value in found.items() if indexable_name(name)}


def indexed(value) -> tuple[int, float | None, str | None]:
    """(kind, number, text) of a value as RunValue stores it."""
    if isinstance(value, bool):
        return RunValue.Kind.BOOLEAN, float(value), None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf if value > 0 else -math.inf
        if math.isnan(number):
            return RunValue.Kind.NULL, None, None
        return RunValue.Kind.NUMBER, number, None
    if isinstance(value, str):
        return RunValue.Kind.STRING, None, value[:INDEXED_TEXT]
    if value is None:
        return RunValue.Kind.NULL, None, None
    if isinstance(value, dict):
        return RunValue.Kind.OBJECT, None, None
    return RunValue.Kind.ARRAY, None, None


def index_runs(
    runs: Iterable[Run], columns: Iterable[str] = tuple(COLUMNS), *, new: bool = False
) -> None:
    """Replace the indexed values of these runs' columns with what the runs hold now (`new`
    runs have none yet). A few queries per call, however many runs: callers pass batches."""
    from .ingest import intern_keys  # ingest imports this module's callers

    runs = [run for run in runs if run.pk is not None]
    columns = tuple(columns)
    if not runs or not columns:
        return
    flats = {
        column: [(run, flat_values(getattr(run, column))) for run in runs] for column in columns
    }
    key_ids = {
        column: intern_keys(COLUMNS[column], {name for _, flat in pairs for name in flat})
        for column, pairs in flats.items()
    }
    rows = [
        RunValue(
            run_id=run.pk,
            key_id=key_ids[column][name],
            project_id=run.project_id,
            kind=kind,
            number=number,
            text=text,
        )
        for column, pairs in flats.items()
        for run, flat in pairs
        for name, value in flat.items()
        for kind, number, text in [indexed(value)]
    ]
    streams = [COLUMNS[column] for column in columns]
    with transaction.atomic(savepoint=False):
        for start in range(0, 0 if new else len(runs), BATCH):
            ids = [run.pk for run in runs[start : start + BATCH]]
            RunValue.objects.filter(run_id__in=ids, key__stream__in=streams).delete()
        RunValue.objects.bulk_create(rows, batch_size=BATCH)


def move_values(run_ids: list[int], project_id: int) -> None:
    """The indexed values follow runs moved to another project."""
    for start in range(0, len(run_ids), BATCH):
        RunValue.objects.filter(run_id__in=run_ids[start : start + BATCH]).update(
            project_id=project_id
        )
