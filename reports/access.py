"""Who may do what with a project's reports.

Members of the project's team read every report of it (drafts, history, versions), write
reports, and a report is edited, published, shared and deleted by its author or a team admin.
Outside the team, a report is read only in its published version and only when its
visibility is public and the team is not private (derived when it is read, so a team turning
private hides its public reports at once). Such a reader who may not see the project reads the
report "outside" (reports/views.py): the panels' data, nothing that leads into the project.
View-only share links are the other way in from outside (reports/share.py)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from projects.access import get_project_for_user
from projects.models import Project
from teams.access import Need, may_change_own

from .models import Report


def is_team_member(project: Project) -> bool:
    return Need.VIEW in project.viewer_entity_permissions


def can_create_reports(project: Project) -> bool:
    return Need.WRITE in project.viewer_entity_permissions


def can_comment(project: Project) -> bool:
    """Comments are the team's shared notes: written by those who may write to it."""
    return Need.WRITE in project.viewer_entity_permissions


def can_edit_report(project: Project, report: Report, user) -> bool:
    return may_change_own(project.viewer_entity_permissions, report.created_by_id, user)


def is_public_now(project: Project, report: Report) -> bool:
    """Public to anyone at this moment: its visibility says so and its team is not private."""
    return report.visibility == Report.Visibility.PUBLIC and not project.entity.is_private


def require_report_creation(project: Project) -> None:
    if not can_create_reports(project):
        raise PermissionDenied("Only members of the team write reports.")


def _report(project: Project, key: str) -> Report:
    report = Report.objects.select_related("created_by").filter(project=project, key=key).first()
    if report is None:
        raise Http404("No such report.")
    report.project = project  # already loaded, with the viewer's rights
    return report


def _readable_outside_team(project: Project, report: Report) -> bool:
    return is_public_now(project, report) and report.versions.exists()


def get_report_for_user(request, project: Project, key: str, *, edit: bool = False) -> Report:
    """A report of the project. Those outside the team know only published public reports of
    a team that is not private (404 for others); with `edit`, 403 unless the user wrote it or
    administers the team."""
    report = _report(project, key)
    if not is_team_member(project) and not _readable_outside_team(project, report):
        raise Http404("No such report.")
    if edit and not can_edit_report(project, report, request.user):
        if not is_team_member(project):
            raise PermissionDenied("Only members of the team edit reports.")
        raise PermissionDenied("Only its author or a team admin edits this report.")
    return report


def get_report_for_reader(request, entity: str, project: str, key: str):
    """(project, report, outside) for the report's page. Whoever may see the project reads it
    as get_report_for_user allows; a public report is also read by those who may not see its
    project (a team-only project of a team that is not private): `outside` is then True.
    Everyone else gets 404, as for the project."""
    try:
        loaded = get_project_for_user(request, entity, project)
    except Http404:
        loaded = (
            Project.objects.select_related("entity")
            .filter(entity__name=entity, name=project)
            .first()
        )
        report = loaded and Report.objects.filter(project=loaded, key=key).first()
        if not report or not _readable_outside_team(loaded, report):
            raise
        # Outside: no rights in the project or its team, whatever the reader's session.
        loaded.viewer_rights, loaded.viewer_entity_permissions = set(), set()
        report.project = loaded
        return loaded, report, True
    return loaded, get_report_for_user(request, loaded, key), False
