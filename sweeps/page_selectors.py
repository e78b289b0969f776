"""Reads for the sweep pages: a project's sweeps with their run counts and best values, and a
sweep's agents. Each is a fixed number of queries, whatever the number of sweeps, runs or
agents."""

from django.db.models import Count, F, Max, Min, Q

from runs.models import MetricKey, RunValue

from .models import Sweep, SweepAgent

# Slots with a run that is not in the trash.
LIVE_RUN_SLOTS = Q(slots__run__isnull=False, slots__run__trashed_at__isnull=True)


def sweeps_with_counts(project):
    """The project's sweeps, newest first, each with `run_count` (slots with a run)."""
    return (
        Sweep.objects.filter(project=project)
        .select_related("author")
        .annotate(run_count=Count("slots", filter=LIVE_RUN_SLOTS))
        # Said again: a query that aggregates leaves the model's ordering out.
        .order_by("-created_at", "-id")
    )


def best_values(sweeps) -> dict[int, float]:
    """The best summary value of each sweep's metric among its runs, by its goal, in one query
    over the index of summary values (runs.models.RunValue); sweeps without a metric or without
    a number for it are left out."""
    with_metric = [sweep for sweep in sweeps if sweep.metric_name]
    if not with_metric:
        return {}
    ranges = (
        RunValue.objects.filter(
            run__sweep_link__sweep__in=with_metric,
            key__stream=MetricKey.Stream.SUMMARY,
            key__name=F("run__sweep_link__sweep__metric_name"),
            kind=RunValue.Kind.NUMBER,
        )
        .values("run__sweep_link__sweep")
        .annotate(lowest=Min("number"), highest=Max("number"))
    )
    goals = {sweep.pk: sweep.metric_goal for sweep in with_metric}
    return {
        row["run__sweep_link__sweep"]: (
            row["highest"] if goals[row["run__sweep_link__sweep"]] == "maximize" else row["lowest"]
        )
        for row in ranges
    }


def sweep_agents(sweep: Sweep):
    """The sweep's agents, oldest first, each with `run_count` (its slots with a run)."""
    return (
        SweepAgent.objects.filter(sweep=sweep)
        .annotate(run_count=Count("slots", filter=LIVE_RUN_SLOTS))
        .order_by("created_at", "id")
    )


def parameter_names(sweep: Sweep) -> list[str]:
    """The sweep's top-level parameter names, as its config lists them."""
    parameters = sweep.config.get("parameters")
    return list(parameters) if isinstance(parameters, dict) else []
