"""Who may do what with a project's alert rules. The project is loaded first through
projects.access.get_project_for_user (404 for those who may not know it exists); these add the
rules' own checks on top.

Anyone who may see the project sees the alerts it fired (a public project shows its runs and
metrics anyway); only members of its team see the rules (their scopes and thresholds are the
team's working notes); members create rules; a rule is changed by its creator or a team admin."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from projects.models import Project
from teams.access import Need, may_change_own

from .models import AlertRule


def can_see_rules(project: Project) -> bool:
    return Need.VIEW in project.viewer_entity_permissions


def can_create_rules(project: Project) -> bool:
    return Need.WRITE in project.viewer_entity_permissions


def can_change_rule(project: Project, rule: AlertRule, user) -> bool:
    return may_change_own(project.viewer_entity_permissions, rule.created_by_id, user)


def require_rules_visible(project: Project) -> None:
    if not can_see_rules(project):
        raise PermissionDenied("Only members of the team see its alert rules.")


def require_rule_creation(project: Project) -> None:
    require_rules_visible(project)
    if not can_create_rules(project):
        raise PermissionDenied("Only members of the team create alert rules.")


def get_rule_for_user(request, project: Project, rule_key: str, *, change: bool) -> AlertRule:
    """A rule of the project (404 if it is not one of its rules); with `change`, 403 unless
    the user created it or administers the team."""
    require_rules_visible(project)
    rules = AlertRule.objects.select_related("baseline_run")
    rule = get_object_or_404(rules, project=project, key=rule_key)
    if change and not can_change_rule(project, rule, request.user):
        raise PermissionDenied("Only its creator or a team admin changes this rule.")
    return rule
