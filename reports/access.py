"""Who may do what with a project's reports. The project is loaded first through
projects.access.get_project_for_user (404 for those who may not know it exists); these add the
reports' own checks.

Whoever sees the project reads its published reports; only members of its team see drafts,
unpublished reports and the history of versions; members write reports; a report is edited,
published and deleted by its author or a team admin."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from projects.models import Project
from teams.access import Need, may_change_own

from .models import Report


def is_team_member(project: Project) -> bool:
    return Need.VIEW in project.viewer_entity_permissions


def can_create_reports(project: Project) -> bool:
    return Need.WRITE in project.viewer_entity_permissions


def can_edit_report(project: Project, report: Report, user) -> bool:
    return may_change_own(project.viewer_entity_permissions, report.created_by_id, user)


def require_report_creation(project: Project) -> None:
    if not can_create_reports(project):
        raise PermissionDenied("Only members of the team write reports.")


def get_report_for_user(request, project: Project, key: str, *, edit: bool = False) -> Report:
    """A report of the project. Those outside the team know only published reports (404 for
    others); with `edit`, 403 unless the user wrote it or administers the team."""
    report = Report.objects.select_related("created_by").filter(project=project, key=key).first()
    if report is None:
        raise Http404("No such report.")
    report.project = project  # already loaded, with the viewer's rights
    if not is_team_member(project) and not report.versions.exists():
        raise Http404("No such report.")
    if edit and not can_edit_report(project, report, request.user):
        if not is_team_member(project):
            raise PermissionDenied("Only members of the team edit reports.")
        raise PermissionDenied("Only its author or a team admin edits this report.")
    return report
