"""Each kind of metric rule against crafted histories, logged through ingestion as a client
would: it fires exactly once when the history crosses it, and never on noise within its
tolerance."""

import math

import pytest

from alerts.models import AlertEvent, AlertRule
from alerts.services import evaluate_after_ingest
from artifacts.models import Artifact, ArtifactAlias, ArtifactCollection, ArtifactLink
from tests.factories import ProjectFactory

from .factories import AlertRuleFactory

Kind = AlertRule.Kind


def fire(run, keys=("loss",)):
    return evaluate_after_ingest(run, keys)


# threshold


def test_threshold_on_the_last_value_fires_once_when_crossed(project, run, log):
    rule = AlertRuleFactory(project=project, kind=Kind.THRESHOLD, comparison=">", threshold=2)
    assert fire(log(run, [1.0, 1.5, 1.99])) == []
    [event] = fire(log(run, [2.5]))
    assert (event.rule, event.run, event.value) == (rule, run, 2.5)
    assert event.message == "loss is 2.5, above 2 (step 3)."
    assert fire(log(run, [3.0])) == []  # within the cooldown
    assert AlertEvent.objects.count() == 1


def test_threshold_on_the_mean_ignores_one_spike(project, run, log):
    AlertRuleFactory(
        project=project, kind=Kind.THRESHOLD, aggregate="mean", window=5, threshold=1.0
    )
    assert fire(log(run, [0.5, 0.5, 3.0, 0.5, 0.5])) == []  # mean 1.0: not above
    assert fire(log(run, [1.2, 1.2, 1.2])) == []  # 0.5 0.5 1.2 1.2 1.2: mean 0.86
    [event] = fire(log(run, [1.5, 1.5]))  # 1.2 1.2 1.2 1.5 1.5
    assert event.value == pytest.approx(1.32)
    assert event.message == "loss mean of the last 5 values is 1.32, above 1 (step 9)."


def test_threshold_waits_for_a_full_window(project, run, log):
    AlertRuleFactory(
        project=project,
        kind=Kind.THRESHOLD,
        aggregate="min",
        window=3,
        comparison="<",
        threshold=0.1,
    )
    assert fire(log(run, [0.01, 0.02])) == []  # two values of three
    [event] = fire(log(run, [0.05]))
    assert event.value == 0.01
    assert event.message.startswith("loss min of the last 3 values is 0.01, below 0.1")


@pytest.mark.parametrize(
    ("aggregate", "comparison", "threshold", "fires"),
    [
        ("max", ">=", 4, True),
        ("max", ">", 4, False),
        ("min", "<=", 1, True),
        ("min", "<", 1, False),
        ("mean", ">", 2.4, True),
        ("mean", ">", 2.5, False),
        ("last", "<", 3, True),
        ("last", "<", 2, False),
    ],
)
def test_threshold_aggregates(project, run, log, aggregate, comparison, threshold, fires):
    AlertRuleFactory(
        project=project,
        kind=Kind.THRESHOLD,
        aggregate=aggregate,
        window=4,
        comparison=comparison,
        threshold=threshold,
    )
    assert len(fire(log(run, [9, 1, 4, 3, 2]))) == fires  # the last 4: 1 4 3 2


def test_threshold_skips_nan_values_and_other_metrics(project, run, log):
    AlertRuleFactory(project=project, kind=Kind.THRESHOLD, threshold=2)
    assert fire(log(run, [float("nan")])) == []
    log(run, [5.0], key="acc")
    assert fire(run, keys=["acc"]) == []  # the rule watches loss


# change


def test_relative_change_fires_on_a_jump_not_on_noise(project, run, log):
    AlertRuleFactory(
        project=project,
        kind=Kind.CHANGE,
        window=3,
        previous_window=3,
        mode="relative",
        comparison=">",
        threshold=0.5,
    )
    noise = [1.0, 1.05, 0.97, 1.02, 0.99, 1.04, 1.01, 0.96]
    assert fire(log(run, noise)) == []
    assert fire(log(run, [1.4])) == []  # one high value: mean of three up ~15%
    [event] = fire(log(run, [2.2, 2.4]))
    assert event.value == pytest.approx((1.4 + 2.2 + 2.4) / 3)
    assert "changed by +" in event.message and "over the 3 before" in event.message
    assert fire(log(run, [3.0, 3.0, 3.0])) == []  # cooldown


def test_absolute_drop_fires(project, run, log):
    AlertRuleFactory(
        project=project,
        kind=Kind.CHANGE,
        metric="acc",
        window=2,
        previous_window=2,
        comparison="<",
        threshold=-0.1,
    )
    assert fire(log(run, [0.80, 0.82, 0.78, 0.75], key="acc"), keys=["acc"]) == []  # -0.045
    [event] = fire(log(run, [0.60, 0.62], key="acc"), keys=["acc"])
    assert event.message.startswith("acc changed by -0.155")


def test_relative_change_from_zero_is_not_decided(project, run, log):
    AlertRuleFactory(
        project=project, kind=Kind.CHANGE, mode="relative", comparison=">", threshold=0.1
    )
    assert fire(log(run, [0.0, 5.0])) == []


# baseline


@pytest.fixture
def baseline_run(make_run):
    return make_run(state="finished", summary={"acc": 0.9})


def test_worse_than_a_baseline_run_beyond_tolerance_fires(project, run, log, baseline_run):
    AlertRuleFactory(
        project=project,
        kind=Kind.BASELINE,
        metric="acc",
        baseline_run=baseline_run,
        direction="higher",
        tolerance=0.02,
    )
    assert fire(log(run, [0.95, 0.89], key="acc"), keys=["acc"]) == []  # 0.01 worse
    [event] = fire(log(run, [0.85], key="acc"), keys=["acc"])
    assert event.value == 0.85
    assert event.message == (
        "acc is 0.85, worse than the baseline's 0.9 by 0.05 (tolerance 0.02; step 2)."
    )


def test_lower_is_better_with_a_relative_tolerance(project, run, log, make_run):
    baseline = make_run(state="finished", summary={"loss": 0.5})
    AlertRuleFactory(
        project=project,
        kind=Kind.BASELINE,
        baseline_run=baseline,
        direction="lower",
        mode="relative",
        tolerance=0.1,
    )
    assert fire(log(run, [0.3, 0.54])) == []  # 8% worse
    assert len(fire(log(run, [0.56]))) == 1


@pytest.fixture
def registry(team, alice, project, make_run):
    """A registered model `classifier` whose `production` alias holds a version logged by a
    run with acc 0.9; a second version, logged by a run with acc 0.7, holds no alias."""
    registry = ProjectFactory(entity=team, creator=alice, name="model-registry")
    sequence = ArtifactCollection.objects.create(project=project, name="clf", type="model")
    portfolio = ArtifactCollection.objects.create(
        project=registry, name="classifier", type="model", kind="portfolio"
    )
    versions = []
    for index, acc in enumerate([0.9, 0.7]):
        producer = make_run(state="finished", summary={"acc": acc})
        version = Artifact.objects.create(
            collection=sequence,
            version_index=index,
            digest=f"d{index}",
            state="COMMITTED",
            created_by_run=producer,
        )
        ArtifactLink.objects.create(portfolio=portfolio, artifact=version, version_index=index)
        versions.append(version)
    ArtifactAlias.objects.create(collection=portfolio, artifact=versions[1], alias="production")
    return portfolio, versions


def test_baseline_by_registry_alias_follows_the_alias(project, run, log, registry):
    portfolio, versions = registry
    AlertRuleFactory(
        project=project,
        kind=Kind.BASELINE,
        metric="acc",
        baseline_portfolio=portfolio,
        baseline_alias="production",
        direction="higher",
        tolerance=0.05,
    )
    assert fire(log(run, [0.8], key="acc"), keys=["acc"]) == []  # better than 0.7
    # The better version is promoted: the same run is now 0.1 worse than production.
    ArtifactAlias.objects.filter(collection=portfolio, alias="production").update(
        artifact=versions[0]
    )
    [event] = fire(log(run, [0.8], key="acc"), keys=["acc"])
    assert "worse than the baseline's 0.9 by 0.1" in event.message


def test_baseline_alias_held_by_no_version_decides_nothing(project, run, log, registry):
    portfolio, _ = registry
    AlertRuleFactory(
        project=project,
        kind=Kind.BASELINE,
        metric="acc",
        baseline_portfolio=portfolio,
        baseline_alias="staging",
        direction="higher",
    )
    assert fire(log(run, [0.0], key="acc"), keys=["acc"]) == []


# outlier


def test_outlier_against_recent_runs_in_scope(project, run, log, make_run):
    for loss in [0.50, 0.52, 0.48, 0.51, 0.49]:
        make_run(state="finished", summary={"loss": loss}, tags=["nightly"])
    # Out of scope: would make the spread wide enough to hide the outlier.
    make_run(state="finished", summary={"loss": 5.0})
    AlertRuleFactory(
        project=project,
        kind=Kind.OUTLIER,
        threshold=3,
        peer_runs=10,
        scope='tags has "nightly"',
    )
    run.tags = ["nightly"]
    run.save()
    assert fire(log(run, [0.9, 0.53])) == []  # z = 1.9
    [event] = fire(log(run, [0.6]))
    assert event.value == 0.6
    assert event.message.startswith("loss is 0.6, a z-score of +6.32 against the last 5 runs")


def test_outlier_reads_only_the_last_k_runs_and_one_side(project, run, log, make_run):
    for loss in [9.0, 9.0, 0.5, 0.6, 0.4]:  # the newest three are the peers
        make_run(state="finished", summary={"loss": loss})
    rule = AlertRuleFactory(
        project=project, kind=Kind.OUTLIER, threshold=2, peer_runs=3, direction="lower"
    )
    assert fire(log(run, [0.1])) == []  # lower loss is better: no alert for a good run
    rule.direction = ""
    rule.save()
    [event] = fire(log(run, [0.2]))
    assert "against the last 3 runs" in event.message


# nonfinite


@pytest.mark.parametrize(
    ("value", "shown"),
    [(float("nan"), "NaN"), (math.inf, "+Infinity"), (-math.inf, "-Infinity")],
)
def test_nonfinite_fires_on_nan_and_infinities(project, run, log, value, shown):
    AlertRuleFactory(project=project, kind=Kind.NONFINITE, window=10)
    assert fire(log(run, [1.0, 1e308, -1e308])) == []
    [event] = fire(log(run, [0.5, value, 0.4]))
    assert event.value is None
    assert event.message == f"loss is {shown} at step 4."
    assert fire(log(run, [value])) == []  # once per cooldown
