"""Whether a rule fires for a run: small readers that fetch only what a rule needs (the newest
values of one metric of one run, a baseline's summary value, the summary values of a few recent
runs) and pure checks that decide from them, with the value and a message a person reads.

Points are read newest first by (run, key, step) with a LIMIT: a backward range scan of the
points' primary key, never a run's whole history. NaN is stored as NULL (runs.ingest), and
infinities as the float infinities."""

import math
import statistics
from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Subquery

from artifacts.models import ArtifactAlias
from runs.models import MetricKey, Point, Run, RunValue

from .models import AlertRule

Kind = AlertRule.Kind
COMPARE = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


@dataclass(frozen=True)
class Decision:
    """A rule fires: the value that fired it (None for NaN) and what to tell people."""

    value: float | None
    message: str


# Readers


def history_key_id(name: str):
    """A subquery of the id of a history key, for annotations."""
    return MetricKey.objects.filter(stream=MetricKey.Stream.HISTORY, name=name).values("id")[:1]


def newest_points(run_id: int, key_id: int | None, count: int) -> list[tuple[int, float | None]]:
    """(step, value) of the newest `count` values of one metric of one run, newest first."""
    if key_id is None or count < 1:
        return []
    return list(
        Point.objects.filter(run_id=run_id, key_id=key_id)
        .order_by("-step")
        .values_list("step", "value")[:count]
    )


def points_needed(rule: AlertRule) -> int:
    if rule.kind == Kind.CHANGE:
        return rule.window + rule.previous_window
    if rule.kind in (Kind.THRESHOLD, Kind.NONFINITE):
        return rule.window
    return 1 if rule.kind in (Kind.BASELINE, Kind.OUTLIER) else 0


def _summary_number(metric: str):
    return RunValue.objects.filter(
        key__stream=MetricKey.Stream.SUMMARY, key__name=metric, kind=RunValue.Kind.NUMBER
    )


def baseline_value(rule: AlertRule) -> float | None:
    """The baseline run's summary value of the metric: the chosen run, or the run that logged
    the version holding the alias in the registered model. One query."""
    if rule.baseline_run_id is not None:
        run = rule.baseline_run_id
    else:
        run = Subquery(
            ArtifactAlias.objects.filter(
                collection_id=rule.baseline_portfolio_id, alias=rule.baseline_alias
            ).values("artifact__created_by_run")[:1]
        )
    numbers = list(
        _summary_number(rule.metric)
        .filter(run_id=run)
        .order_by()
        .values_list("number", flat=True)[:1]
    )
    return numbers[0] if numbers else None


def peer_values(rule: AlertRule, run: Run) -> list[float]:
    """The summary values of the metric of the newest `peer_runs` other runs in scope (the
    runs without a number left out). One query."""
    value = _summary_number(rule.metric).filter(run_id=OuterRef("pk")).values("number")[:1]
    peers = (
        Run.objects.filter(project_id=rule.project_id)
        .exclude(pk=run.pk)
        .filter(rule.scope_q())
        .annotate(metric_value=Subquery(value))
        .exclude(metric_value=None)
        .order_by("-created_at", "-id")
        .values_list("metric_value", flat=True)
    )
    return [number for number in peers[: rule.peer_runs] if math.isfinite(number)]


# Checks: pure functions of a rule and what was read


def _shown(value: float | None) -> str:
    return "NaN" if value is None else f"{value:.6g}"


def _comparison_label(rule: AlertRule) -> str:
    return AlertRule.Comparison(rule.comparison).label


def check_threshold(rule: AlertRule, points: list) -> Decision | None:
    window = points[: rule.window]
    numbers = [value for _, value in window if value is not None]
    if len(window) < rule.window or not numbers:
        return None
    if rule.aggregate == AlertRule.Aggregate.LAST:
        if window[0][1] is None:
            return None
        value, what = window[0][1], "is"
    else:
        value = {"min": min, "max": max, "mean": statistics.fmean}[rule.aggregate](numbers)
        what = f"{rule.aggregate} of the last {rule.window} values is"
    if not COMPARE[rule.comparison](value, rule.threshold):
        return None
    return Decision(
        value,
        f"{rule.metric} {what} {_shown(value)}, {_comparison_label(rule)} "
        f"{_shown(rule.threshold)} (step {window[0][0]}).",
    )


def check_change(rule: AlertRule, points: list) -> Decision | None:
    needed = rule.window + rule.previous_window
    if len(points) < needed or any(value is None for _, value in points[:needed]):
        return None
    recent = statistics.fmean(value for _, value in points[: rule.window])
    previous = statistics.fmean(value for _, value in points[rule.window : needed])
    change = recent - previous
    if rule.mode == AlertRule.Mode.RELATIVE:
        if previous == 0:
            return None
        change /= abs(previous)
    if math.isnan(change) or not COMPARE[rule.comparison](change, rule.threshold):
        return None
    amount = f"{change:+.1%}" if rule.mode == AlertRule.Mode.RELATIVE else f"{change:+.6g}"
    return Decision(
        recent,
        f"{rule.metric} changed by {amount}: mean {_shown(recent)} over the last "
        f"{rule.window} values against {_shown(previous)} over the {rule.previous_window} "
        f"before (step {points[0][0]}).",
    )


def check_baseline(rule: AlertRule, points: list, baseline: float | None) -> Decision | None:
    if not points or points[0][1] is None or baseline is None:
        return None
    current = points[0][1]
    worse_by = (
        baseline - current if rule.direction == AlertRule.Direction.HIGHER else (current - baseline)
    )
    allowed = rule.tolerance
    if rule.mode == AlertRule.Mode.RELATIVE:
        allowed *= abs(baseline)
    if not worse_by > allowed:
        return None
    return Decision(
        current,
        f"{rule.metric} is {_shown(current)}, worse than the baseline's {_shown(baseline)} "
        f"by {_shown(worse_by)} (tolerance {_shown(allowed)}; step {points[0][0]}).",
    )


def check_outlier(rule: AlertRule, points: list, peers: list[float]) -> Decision | None:
    if not points or points[0][1] is None or len(peers) < 2:
        return None
    current = points[0][1]
    mean = statistics.fmean(peers)
    spread = statistics.stdev(peers)
    if spread == 0:
        z = 0.0 if current == mean else math.copysign(math.inf, current - mean)
    else:
        z = (current - mean) / spread
    if rule.direction == AlertRule.Direction.HIGHER:
        outside = -z >= rule.threshold
    elif rule.direction == AlertRule.Direction.LOWER:
        outside = z >= rule.threshold
    else:
        outside = abs(z) >= rule.threshold
    if not outside:
        return None
    return Decision(
        current,
        f"{rule.metric} is {_shown(current)}, a z-score of {z:+.2f} against the last "
        f"{len(peers)} runs (mean {_shown(mean)}, standard deviation {_shown(spread)}).",
    )


def check_nonfinite(rule: AlertRule, points: list) -> Decision | None:
    bad = next(((step, value) for step, value in points[: rule.window] if not _finite(value)), None)
    if bad is None:
        return None
    step, value = bad
    shown = "NaN" if value is None else ("+Infinity" if value > 0 else "-Infinity")
    return Decision(None, f"{rule.metric} is {shown} at step {step}.")


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def check_state(rule: AlertRule, run: Run) -> Decision | None:
    if rule.kind == Kind.FAILED and run.state == Run.State.FAILED:
        code = "" if run.exit_code is None else f" (exit code {run.exit_code})"
        return Decision(run.exit_code, f"Run {run.display_name} failed{code}.")
    if rule.kind == Kind.CRASHED and run.state == Run.State.CRASHED:
        return Decision(None, f"Run {run.display_name} crashed: it stopped sending heartbeats.")
    return None


def quiet_since(rule: AlertRule, run: Run) -> datetime | None:
    """Since when the run has been quiet in the way the stall rule watches: its last heartbeat,
    or the last growth of its history (its start, if it never logged any)."""
    if rule.stall_signal == AlertRule.StallSignal.HISTORY:
        return run.history_at or run.created_at
    return run.heartbeat_at


def check_stalled(rule: AlertRule, run: Run, now: datetime) -> Decision | None:
    by_history = rule.stall_signal == AlertRule.StallSignal.HISTORY
    states = (Run.State.RUNNING,) if by_history else (Run.State.RUNNING, Run.State.CRASHED)
    since = quiet_since(rule, run)
    if run.state not in states or since is None:
        return None
    quiet = (now - since).total_seconds() / 60
    if quiet < rule.stall_minutes:
        return None
    what = "no new history" if by_history else "nothing received"
    return Decision(
        quiet,
        f"Run {run.display_name} stalled: {what} for {quiet:.0f} minutes "
        f"(rule: {rule.stall_minutes}).",
    )


def decide(rule: AlertRule, run: Run, points: list, *, now: datetime) -> Decision | None:
    """Whether `rule` fires for `run`, given the newest points_needed(rule) values of its
    metric (newest first). Baseline and outlier rules read one more query."""
    if rule.kind == Kind.THRESHOLD:
        return check_threshold(rule, points)
    if rule.kind == Kind.CHANGE:
        return check_change(rule, points)
    if rule.kind == Kind.BASELINE:
        return check_baseline(rule, points, baseline_value(rule) if points else None)
    if rule.kind == Kind.OUTLIER:
        return check_outlier(rule, points, peer_values(rule, run) if points else [])
    if rule.kind == Kind.NONFINITE:
        return check_nonfinite(rule, points)
    if rule.kind == Kind.STALLED:
        return check_stalled(rule, run, now)
    return check_state(rule, run)
