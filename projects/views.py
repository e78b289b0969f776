from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.views.decorators.http import require_POST

from teams import selectors as team_selectors
from teams.access import Need, entity_permissions, get_entity_for_user
from teams.forms import PrivacyForm
from teams.models import Entity

from . import selectors, services
from .access import ProjectNeed, get_project_for_user
from .forms import ProjectCreateForm, ProjectDeleteForm, ProjectSettingsForm
from .services import ProjectError


def entity_page(request, entity):
    entity = Entity.objects.filter(name=entity).select_related("user").first()
    if entity is None:
        raise Http404("No such entity.")
    permissions = entity_permissions(request.user, entity)
    projects = list(selectors.projects_visible_to(request.user, entity))
    is_member = Need.VIEW in permissions
    if not is_member and not projects:
        raise Http404("No such entity.")
    return render(
        request,
        "projects/entity.html",
        {
            "entity": entity,
            "projects": projects,
            "people": team_selectors.people_of(entity) if entity.is_team and is_member else [],
            "can_create": Need.WRITE in permissions,
            "is_admin": Need.ADMIN in permissions,
            "is_member": is_member,
        },
    )


@login_required
def create_project(request):
    entities = team_selectors.entities_writable_by(request.user)
    default = team_selectors.default_entity_of(request.user)
    initial = {"entity": request.GET.get("entity") or (default.name if default else None)}
    form = ProjectCreateForm(request.POST or None, entities=entities, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(creator=request.user, **form.cleaned_data)
        except ProjectError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Project {project.path} created.")
            return redirect(project)
    return render(
        request, "projects/create.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
def project_settings(request, entity, project):
    project = get_project_for_user(request, entity, project, need=ProjectNeed.ADMIN)
    # Who may see the project is the team admins' call, not the creator's.
    is_admin = Need.ADMIN in project.viewer_entity_permissions
    candidates = selectors.access_candidates_of(project) if is_admin else None
    form = ProjectSettingsForm(request.POST or None, instance=project, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                # Access first: restricting makes the project team-only before the visibility
                # is saved, and lifting a restriction lets a public visibility through.
                if "restricted" in data:
                    services.project_access_set(
                        project=project,
                        actor=request.user,
                        restricted=data["restricted"],
                        memberships=data["members"],
                    )
                services.project_update(
                    project=project,
                    actor=request.user,
                    description=data["description"],
                    visibility=data["visibility"],
                )
        except ProjectError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, "Project settings saved.")
            return redirect(project.get_settings_url())
    return render(
        request,
        "projects/settings.html",
        {
            "project": project,
            "form": form,
            "delete_form": ProjectDeleteForm(),
            "retention_days": settings.TRASH_RETENTION_DAYS,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def delete_project(request, entity, project):
    project = get_project_for_user(request, entity, project, need=ProjectNeed.ADMIN)
    try:
        services.project_delete(
            project=project,
            actor=request.user,
            confirm_name=ProjectDeleteForm(request.POST).typed_name(),
        )
    except ProjectError as error:
        messages.error(request, str(error))
        return redirect(project.get_settings_url())
    messages.success(
        request,
        format_html(
            "Project {} and its runs were moved to the trash; they are deleted for good on {}. "
            '<a href="{}#trashed-{}">Undo: restore it from the trash</a>',
            project.path,
            date_format(localtime(services.purge_date(project)), "Y-m-d"),
            reverse("projects:trash", args=[project.entity.name]),
            project.name,
        ),
    )
    return redirect("entity", project.entity.name)


@login_required
@require_POST
def set_team_privacy(request, name):
    """The team settings page's privacy switch; here because it changes the team's projects."""
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    form = PrivacyForm(request.POST)
    form.is_valid()  # a missing checkbox is a valid "off"
    team = services.team_privacy_set(
        team=team, is_private=form.cleaned_data["is_private"], actor=request.user
    )
    messages.success(
        request,
        f"{team.name} is now private: its projects are visible to members only."
        if team.is_private
        else f"{team.name} is no longer private. Its projects stay team-only until someone "
        "makes one public.",
    )
    return redirect(team.get_settings_url())
