"""A rule's condition in words, as the rules list shows it
("mean of last 5 val/loss > 0.9")."""

from .models import AlertRule

Kind = AlertRule.Kind


def _number(value) -> str:
    return "?" if value is None else f"{value:g}"


def _window(rule: AlertRule) -> str:
    if rule.aggregate == AlertRule.Aggregate.LAST:
        return f"last {rule.metric}"
    return f"{rule.aggregate} of last {rule.window} {rule.metric}"


def _baseline(rule: AlertRule) -> str:
    if rule.baseline_run_id is not None:
        return f"run {rule.baseline_run.display_name}" if rule.baseline_run else "a run"
    model = rule.baseline_portfolio.name if rule.baseline_portfolio else "?"
    return f"{model}:{rule.baseline_alias}"


def _tolerance(rule: AlertRule) -> str:
    if rule.mode == AlertRule.Mode.RELATIVE:
        return f"{rule.tolerance:.0%}"
    return _number(rule.tolerance)


def rule_condition(rule: AlertRule) -> str:
    if rule.kind == Kind.THRESHOLD:
        return f"{_window(rule)} {rule.comparison} {_number(rule.threshold)}"
    if rule.kind == Kind.CHANGE:
        amount = (
            f"{rule.threshold:.0%}"
            if rule.mode == AlertRule.Mode.RELATIVE and rule.threshold is not None
            else _number(rule.threshold)
        )
        return (
            f"change of mean {rule.metric} (last {rule.window} vs previous "
            f"{rule.previous_window}) {rule.comparison} {amount}"
        )
    if rule.kind == Kind.BASELINE:
        better = "higher" if rule.direction == AlertRule.Direction.HIGHER else "lower"
        return (
            f"{rule.metric} worse than {_baseline(rule)} by more than {_tolerance(rule)} "
            f"({better} is better)"
        )
    if rule.kind == Kind.OUTLIER:
        side = {"higher": "low", "lower": "high"}.get(rule.direction, "either side")
        return (
            f"{rule.metric} |z| ≥ {_number(rule.threshold)} against last {rule.peer_runs} runs"
            f" ({side})"
        )
    if rule.kind == Kind.NONFINITE:
        return f"NaN or ±Inf in last {rule.window} {rule.metric}"
    if rule.kind == Kind.STALLED:
        if rule.stall_signal == AlertRule.StallSignal.HISTORY:
            return f"no new history for {rule.stall_minutes} min"
        return f"no heartbeat for {rule.stall_minutes} min"
    return {Kind.FAILED: "run failed", Kind.CRASHED: "run crashed"}[rule.kind]


def cooldown_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
