"""A run's metrics: history, events, sampledHistory, parquetHistory and historyKeys."""

import json

from runs import history as run_history

from .common import ApiError, json_argument
from .runs import run_type

MAX_HISTORY_SAMPLES = 100_000
HISTORY = run_history.MetricKey.Stream.HISTORY


@run_type.field("historyKeys")
def resolve_run_history_keys(run, _):
    return run_history.history_keys(run)


def _samples(samples, default=500):
    samples = default if samples is None else samples
    if samples < 0 or samples > MAX_HISTORY_SAMPLES:
        raise ApiError(f"samples must be between 0 and {MAX_HISTORY_SAMPLES}.")
    return samples


@run_type.field("history")
def resolve_run_history(run, _, samples=None, minStep=None, maxStep=None):
    if minStep is not None or maxStep is not None:
        return run_history.history_page_lines(
            run,
            min_step=minStep or 0,
            max_step=maxStep if maxStep is not None else 2**62,
            limit=_samples(samples),
        )
    rows = run_history.history(run, samples=_samples(samples))
    return [json.dumps(row) for row in rows]


@run_type.field("events")
def resolve_run_events(run, _, samples=None):
    rows = run_history.history(
        run, samples=_samples(samples), stream=run_history.MetricKey.Stream.EVENTS
    )
    return [json.dumps(row) for row in rows]


def _spec_step(spec, name):
    step = spec.get(name)
    if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
        raise ApiError(f"A spec's {name} must be an integer.")
    return step if step is None else min(max(step, 0), run_history.MAX_STEP - 1)


@run_type.field("sampledHistory")
def resolve_run_sampled_history(run, _, specs):
    result = []
    for spec in specs:
        spec = json_argument(spec, "A spec")
        if not isinstance(spec, dict):
            raise ApiError('Each spec must be {"keys": [...], "samples": N}.')
        if "keys" not in spec:
            # Sweep agents ask SweepWithRuns with the spec "{}": no keys, no rows.
            result.append([])
            continue
        keys, samples = spec["keys"], spec.get("samples", 500)
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise ApiError("A spec's keys must be a list of strings.")
        if isinstance(samples, bool) or not isinstance(samples, int):
            raise ApiError("A spec's samples must be an integer.")
        # scan_history(keys=...) sends pages as minStep and maxStep, both inclusive (unlike
        # history(minStep, maxStep), where maxStep is exclusive).
        max_step = _spec_step(spec, "maxStep")
        result.append(
            run_history.sampled_history(
                run,
                keys,
                _samples(samples),
                min_step=_spec_step(spec, "minStep"),
                max_step=None if max_step is None else max_step + 1,
            )
        )
    return result


@run_type.field("parquetHistory")
def resolve_run_parquet_history(run, _, liveKeys):
    # No parquet exports: every row is live, and the client pages through `history` or
    # `sampledHistory`. It reads liveData only for where the live rows start (their smallest
    # step) and whether there are any, so the first live row answers it, however long the run:
    # listing a million steps cost seconds on both sides.
    first = run_history.first_step(run)
    keys = [key for key in liveKeys if key != run_history.STEP_KEY]
    rows = [] if first is None else run_history.rows_at(run, HISTORY, [first], keys=keys)
    return {"parquetUrls": [], "liveData": rows}
