"""The alert pages of a project: the alerts it fired, its rules, and the rule form with its
"Test this rule" button."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from projects.access import get_project_for_user

from . import selectors
from .access import (
    can_change_rule,
    can_create_rules,
    can_see_rules,
    get_rule_for_user,
    require_rule_creation,
    require_rules_visible,
)
from .describe import cooldown_text, rule_condition
from .forms import SNOOZES, AlertRuleForm, HistoryFilterForm, SnoozeForm
from .services import (
    alert_rule_delete,
    alert_rule_save,
    alert_rule_set_muted,
    alert_rule_snooze,
    alert_rule_try,
)

ALERTS_PER_PAGE = 50


def history(request, entity, project):
    project = get_project_for_user(request, entity, project)
    filters = HistoryFilterForm(request.GET, project=project)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    events = selectors.project_alerts(
        project, rule_key=chosen.get("rule"), run_id=chosen.get("run")
    )
    page = Paginator(events, ALERTS_PER_PAGE)
    context = {
        "project": project,
        "filters": filters,
        "page": page.get_page(request.GET.get("page")),
        "can_see_rules": can_see_rules(project),
    }
    return render(request, "alerts/history.html", context)


@login_required
def rules(request, entity, project):
    project = get_project_for_user(request, entity, project)
    require_rules_visible(project)
    rows = [
        {
            "rule": rule,
            "condition": rule_condition(rule),
            "cooldown": cooldown_text(rule.cooldown),
            "can_change": can_change_rule(project, rule, request.user),
        }
        for rule in selectors.project_rules(project)
    ]
    context = {
        "project": project,
        "rows": rows,
        "now": timezone.now(),
        "can_create": can_create_rules(project),
    }
    return render(request, "alerts/rules.html", context)


def _form_page(request, project, form, *, rule=None, trials=None, status=200):
    context = {
        "project": project,
        "form": form,
        "rule": rule,
        "trials": trials,
        "baseline_runs": selectors.baseline_run_suggestions(project),
    }
    # htmx swaps only 2xx answers: the partial carries its errors at 200.
    if request.htmx:
        return render(request, "alerts/rule_form.html#rule_form", context)
    return render(request, "alerts/rule_form.html", context, status=status)


@login_required
def create_rule(request, entity, project):
    project = get_project_for_user(request, entity, project)
    require_rule_creation(project)
    form = AlertRuleForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        rule.created_by = request.user
        alert_rule_save(rule=rule, webhooks=form.cleaned_data["webhooks"])
        messages.success(request, f"Created the rule “{rule.name}”.")
        return redirect("alerts:rules", project.entity.name, project.name)
    return _form_page(request, project, form, status=400 if form.is_bound else 200)


@login_required
def edit_rule(request, entity, project, rule_key):
    project = get_project_for_user(request, entity, project)
    rule = get_rule_for_user(request, project, rule_key, change=True)
    form = AlertRuleForm(request.POST or None, instance=rule, project=project)
    if request.method == "POST" and form.is_valid():
        alert_rule_save(rule=form.save(commit=False), webhooks=form.cleaned_data["webhooks"])
        messages.success(request, f"Saved the rule “{rule.name}”.")
        return redirect("alerts:rules", project.entity.name, project.name)
    return _form_page(request, project, form, rule=rule, status=400 if form.is_bound else 200)


@login_required
@require_POST
def try_rule(request, entity, project):
    """What the rule in the form would fire on recent runs, recording nothing."""
    project = get_project_for_user(request, entity, project)
    require_rule_creation(project)
    form = AlertRuleForm(request.POST, project=project)
    if not form.is_valid():
        return _form_page(request, project, form, status=400)
    try:
        trials = alert_rule_try(rule=form.save(commit=False))
    except ValidationError as error:  # the form ran the same checks: kept for safety
        form.add_error(None, error)
        return _form_page(request, project, form, status=400)
    return _form_page(request, project, form, trials=trials)


def _changed(request, project, rule, message):
    messages.success(request, message)
    return redirect("alerts:rules", project.entity.name, project.name)


@login_required
@require_POST
def mute_rule(request, entity, project, rule_key):
    project = get_project_for_user(request, entity, project)
    rule = get_rule_for_user(request, project, rule_key, change=True)
    alert_rule_set_muted(rule=rule, muted=True)
    return _changed(request, project, rule, f"Muted the rule “{rule.name}”.")


@login_required
@require_POST
def unmute_rule(request, entity, project, rule_key):
    project = get_project_for_user(request, entity, project)
    rule = get_rule_for_user(request, project, rule_key, change=True)
    alert_rule_set_muted(rule=rule, muted=False)
    return _changed(request, project, rule, f"Unmuted the rule “{rule.name}”.")


@login_required
@require_POST
def snooze_rule(request, entity, project, rule_key):
    project = get_project_for_user(request, entity, project)
    rule = get_rule_for_user(request, project, rule_key, change=True)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how long to snooze the rule.")
        return redirect("alerts:rules", project.entity.name, project.name)
    hours = SNOOZES.get(form.cleaned_data["hours"])
    until = None if hours is None else timezone.now() + timedelta(hours=hours)
    alert_rule_snooze(rule=rule, until=until)
    if until is None:
        return _changed(request, project, rule, f"The rule “{rule.name}” is awake.")
    return _changed(request, project, rule, f"Snoozed the rule “{rule.name}”.")


@login_required
@require_POST
def delete_rule(request, entity, project, rule_key):
    project = get_project_for_user(request, entity, project)
    rule = get_rule_for_user(request, project, rule_key, change=True)
    name = rule.name
    alert_rule_delete(rule=rule)
    return _changed(request, project, rule, f"Deleted the rule “{name}”; its alerts stay.")
