"""Saving rules, evaluating them (after a chunk of history is stored, and periodically for
stalls and crashes), recording what fired, and trying a rule out on recent runs.

Evaluation costs a fixed number of queries whatever a run's history holds: one for the
project's rules, one to test their scopes on the run, one per metric they watch (its newest
values), one more per baseline or outlier rule, and a few per alert that fires."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from runs.models import MetricKey, Run
from runs.tracking import alert_create

from .delivery import deliveries_create
from .evaluation import Decision, decide, history_key_id, newest_points, points_needed
from .models import AlertEvent, AlertRule, RuleRunState

# The periodic job reports runs that went quiet or crashed within this long: a rule created
# today does not report every run that died last year.
PERIODIC_LOOKBACK = timedelta(days=1)
TRY_RUNS = 50


@transaction.atomic
def alert_rule_save(*, rule: AlertRule, webhooks=None) -> AlertRule:
    """Check (ValidationError naming the field) and store a new or changed rule, and, given
    `webhooks`, the webhooks its alerts are posted to (the project's team's only)."""
    rule.full_clean()
    if webhooks is not None and any(hook.entity_id != rule.project.entity_id for hook in webhooks):
        raise ValidationError({"webhooks": "Choose webhooks of the project's team."})
    rule.save()
    if webhooks is not None:
        rule.webhooks.set(webhooks)
    return rule


def _active(now: datetime) -> Q:
    return Q(muted=False) & (Q(snoozed_until=None) | Q(snoozed_until__lte=now))


@transaction.atomic
def alert_record(
    *, rule: AlertRule, run: Run, decision: Decision, now: datetime, since=None
) -> AlertEvent | None:
    """Record that `rule` fired for `run`, unless it already did within its cooldown (or,
    with `since`, at or after the start of the failure, crash or stall it reports). Of
    concurrent callers one records: the conditional UPDATE waits for the other's row lock and
    then sees its time; the first firing's INSERT meets the primary key."""
    due = Q(last_fired_at__lte=now - rule.cooldown_delta)
    if since is not None:
        due &= Q(last_fired_at__lt=since)
    claimed = RuleRunState.objects.filter(rule=rule, run=run).filter(due).update(last_fired_at=now)
    if not claimed:
        try:
            with transaction.atomic():
                RuleRunState.objects.create(rule=rule, run=run, last_fired_at=now)
        except IntegrityError:
            return None  # it fired within the cooldown, or another worker just did
    event = AlertEvent.objects.create(
        project_id=run.project_id,
        rule=rule,
        rule_name=rule.name,
        run=run,
        value=decision.value,
        message=decision.message,
        fired_at=now,
    )
    deliveries_create(event)
    return event


@transaction.atomic
def client_alert_raise(**alert) -> AlertEvent | None:
    """`run.alert()` from the run's code (the arguments of runs.tracking.alert_create): stored
    on the run, and, unless the same alert went out within the client's wait, recorded in the
    project's alert history and delivered like a rule's alert (email and the bell to the run's
    author, emails to the members who asked for the team's, webhooks that take them)."""
    client_alert = alert_create(**alert)
    if not client_alert.notified:
        return None
    run = client_alert.run
    event = AlertEvent.objects.create(
        project_id=run.project_id,
        client_alert=client_alert,
        run=run,
        level=client_alert.level,
        message=client_alert.title,
        detail=client_alert.text,
        fired_at=client_alert.created_at,
    )
    deliveries_create(event)
    return event


# The kinds a stored chunk (or a run's end) is evaluated for; the others by the periodic job.
INGEST_KINDS = (*AlertRule.METRIC_KINDS, AlertRule.Kind.FAILED)


def watched_at_ingest(project) -> Exists:
    """Whether the project (an id or OuterRef) has an unmuted rule that ingestion evaluates:
    annotated on the run a request reads anyway, it costs no query of its own. Snoozes are
    left to the evaluation (a snoozed rule costs a task that finds nothing)."""
    return Exists(AlertRule.objects.filter(project=project, muted=False, kind__in=INGEST_KINDS))


def rules_in_scope(run: Run, rules: list[AlertRule]) -> list[AlertRule]:
    """The rules whose scope holds `run`: one query for all of them (none without scopes)."""
    scoped = [rule for rule in rules if rule.scope.strip()]
    if not scoped:
        return rules
    tests = {
        f"rule_{rule.pk}": ExpressionWrapper(rule.scope_q(probe=True), output_field=BooleanField())
        for rule in scoped
    }
    row = Run.objects.filter(pk=run.pk).order_by().values(**tests).first() or {}
    return [rule for rule in rules if not rule.scope.strip() or row.get(f"rule_{rule.pk}")]


def evaluate_after_ingest(run: Run, keys, *, now: datetime | None = None) -> list[AlertEvent]:
    """Evaluate the project's active rules on the metrics a stored chunk touched (`keys`:
    history key names), and the failure rules if the run failed (`run` as stored after the
    chunk); return what fired. Rules that fired for the run within their cooldown are left
    out before anything is read for them, so a metric that stays bad costs no writes."""
    now = now or timezone.now()
    watches = Q(kind__in=AlertRule.METRIC_KINDS, metric__in=set(keys))
    if run.state == Run.State.FAILED:
        watches |= Q(kind=AlertRule.Kind.FAILED)
    last_fired = RuleRunState.objects.filter(rule=OuterRef("pk"), run=run).values("last_fired_at")
    rules = AlertRule.objects.filter(_active(now), watches, project_id=run.project_id).annotate(
        metric_key_id=history_key_id(OuterRef("metric")), last_fired_at=Subquery(last_fired[:1])
    )
    rules = [rule for rule in rules if _due(rule, run, now)]
    if not rules:
        return []
    rules = rules_in_scope(run, rules)
    needed = defaultdict(int)
    for rule in rules:
        if rule.kind in AlertRule.METRIC_KINDS:
            needed[rule.metric_key_id] = max(needed[rule.metric_key_id], points_needed(rule))
    points = {key_id: newest_points(run.pk, key_id, count) for key_id, count in needed.items()}
    fired = []
    for rule in rules:
        values = points.get(rule.metric_key_id, [])[: points_needed(rule)]
        decision = decide(rule, run, values, now=now)
        if decision is not None:
            event = alert_record(
                rule=rule, run=run, decision=decision, now=now, since=_episode_start(rule, run)
            )
            if event is not None:
                fired.append(event)
    return fired


def _episode_start(rule: AlertRule, run: Run):
    # A failure is reported once, however long after the cooldown the run is looked at again.
    return run.finished_at if rule.kind == AlertRule.Kind.FAILED else None


def _due(rule: AlertRule, run: Run, now: datetime) -> bool:
    """Whether the rule, annotated with when it last fired for the run, may fire again."""
    last = rule.last_fired_at
    if last is None:
        return True
    since = _episode_start(rule, run)
    return last <= now - rule.cooldown_delta and (since is None or last < since)


def _periodic_candidates(rule: AlertRule, now: datetime):
    """The runs of the rule's project that it may report now: quiet (stalled) or crashed
    within the lookback, in scope, not yet reported for this stall or crash, and out of the
    cooldown. One query on the (project, state, heartbeat_at) index."""
    runs = Run.objects.filter(project_id=rule.project_id)
    if rule.kind == AlertRule.Kind.STALLED:
        quiet_before = now - timedelta(minutes=rule.stall_minutes)
        if rule.stall_signal == AlertRule.StallSignal.HISTORY:
            # Running runs are few: the (project, state) prefix of the index finds them.
            runs = runs.filter(state=Run.State.RUNNING).annotate(
                quiet_since=Coalesce("history_at", "created_at")
            )
        else:
            runs = runs.filter(state__in=[Run.State.RUNNING, Run.State.CRASHED]).annotate(
                quiet_since=F("heartbeat_at")
            )
        runs = runs.filter(
            quiet_since__lte=quiet_before, quiet_since__gte=quiet_before - PERIODIC_LOOKBACK
        )
    else:
        runs = runs.filter(
            state=Run.State.CRASHED, heartbeat_at__gte=now - PERIODIC_LOOKBACK
        ).annotate(quiet_since=F("heartbeat_at"))
    reported = RuleRunState.objects.filter(rule=rule, run=OuterRef("pk")).filter(
        Q(last_fired_at__gte=OuterRef("quiet_since"))
        | Q(last_fired_at__gt=now - rule.cooldown_delta)
    )
    if rule.scope.strip():
        runs = runs.filter(rule.scope_q())
    return runs.filter(~Exists(reported))


def evaluate_periodic(now: datetime | None = None) -> list[AlertEvent]:
    """Report stalled and crashed runs to the active rules that watch for them: one query for
    the rules, one per rule for its runs, a few per alert that fires."""
    now = now or timezone.now()
    fired = []
    rules = AlertRule.objects.filter(_active(now), kind__in=AlertRule.PERIODIC_KINDS)
    for rule in rules:
        for run in _periodic_candidates(rule, now):
            decision = decide(rule, run, [], now=now)
            if decision is None:
                continue
            event = alert_record(
                rule=rule, run=run, decision=decision, now=now, since=run.quiet_since
            )
            if event is not None:
                fired.append(event)
    return fired


@dataclass(frozen=True)
class Trial:
    run: Run
    decision: Decision


def alert_rule_try(*, rule: AlertRule, now: datetime | None = None) -> list[Trial]:
    """What a (possibly unsaved) rule would report now on the project's newest TRY_RUNS runs
    in its scope, newest first; records nothing. ValidationError for a rule that is not
    complete. A few queries per run tried."""
    # A draft is never saved: its key needs no check against the others.
    rule.full_clean(validate_unique=False)
    now = now or timezone.now()
    runs = Run.objects.filter(project_id=rule.project_id).order_by("-created_at", "-id")
    if rule.scope.strip():
        runs = runs.filter(rule.scope_q())
    key_id = None
    if rule.kind in AlertRule.METRIC_KINDS:
        key_id = (
            MetricKey.objects.filter(stream=MetricKey.Stream.HISTORY, name=rule.metric)
            .values_list("id", flat=True)
            .first()
        )
    trials = []
    for run in runs[:TRY_RUNS]:
        points = newest_points(run.pk, key_id, points_needed(rule))
        decision = decide(rule, run, points, now=now)
        if decision is not None:
            trials.append(Trial(run, decision))
    return trials


# The alert pages' actions on one rule: the views check who may act, these only write.


def alert_rule_set_muted(*, rule: AlertRule, muted: bool) -> AlertRule:
    rule.muted = muted
    rule.save(update_fields=["muted"])
    return rule


def alert_rule_snooze(*, rule: AlertRule, until: datetime | None) -> AlertRule:
    """Snooze the rule until `until` (None: wake it now)."""
    rule.snoozed_until = until
    rule.save(update_fields=["snoozed_until"])
    return rule


def alert_rule_delete(*, rule: AlertRule) -> None:
    """Delete the rule; the alerts it fired stay in the history under its name."""
    rule.delete()
