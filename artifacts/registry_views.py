"""The team model registry pages: its registered models and their recent alias moves (of
deleted models too); one model's versions, aliases, the runs that logged them and who moved
which alias when; admins move protected aliases."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from projects.access import ProjectNeed, project_rights
from projects.models import Project
from runs.services import RunsError
from teams.access import Need, get_entity_for_user, viewer_refusal

from . import registry
from . import registry_selectors as selectors
from .models import ArtifactCollection, ArtifactLink


def _registry_of(request, entity_name):
    """The team and its `model-registry` project (None before the first link); outsiders
    who may not see the project get 404."""
    team = get_entity_for_user(request, entity_name)
    project = Project.objects.filter(entity=team, name=registry.REGISTRY_PROJECT).first()
    if project is not None:
        rights = project_rights(request.user, project, team.viewer_permissions)
        if ProjectNeed.VIEW not in rights:
            raise Http404("No such registry.")
        project.entity = team
    return team, project


def _model_of(request, entity_name, name):
    team, project = _registry_of(request, entity_name)
    if project is None:
        raise Http404("No such registered model.")
    portfolio = get_object_or_404(
        ArtifactCollection, project=project, name=name, kind=ArtifactCollection.Kind.PORTFOLIO
    )
    portfolio.project = project
    return team, portfolio


class MoveAliasForm(forms.Form):
    alias = forms.ChoiceField()
    version = forms.TypedChoiceField(coerce=int)

    def __init__(self, *args, aliases, versions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alias"].choices = [(alias, alias) for alias in aliases]
        self.fields["version"].choices = [(index, f"v{index}") for index in versions]


def _move_form(team, links, data=None):
    return MoveAliasForm(
        data,
        aliases=sorted(registry.protected_aliases(team)),
        versions=[link.version_index for link in links],
    )


@login_required
def registry_list(request, entity):
    team, project = _registry_of(request, entity)
    models = list(selectors.registered_models(project, request.user)) if project else []
    # The history is as visible as the registry project, which holds the models.
    moves = selectors.recent_alias_moves(team) if project else []
    return render(
        request, "artifacts/registry.html", {"team": team, "models": models, "moves": moves}
    )


@login_required
def registry_model(request, entity, name):
    team, portfolio = _model_of(request, entity, name)
    links = selectors.registered_model_versions(portfolio, request.user)
    return render(
        request,
        "artifacts/registry_model.html",
        {
            "team": team,
            "model": portfolio,
            "links": links,
            "moves": selectors.alias_moves(portfolio),
            "form": _move_form(team, links) if team.viewer_is_admin and links else None,
        },
    )


@login_required
@require_POST
def registry_move_alias(request, entity, name):
    team, portfolio = _model_of(request, entity, name)
    if Need.WRITE not in team.viewer_permissions:
        raise PermissionDenied(viewer_refusal(team, "move aliases"))
    form = _move_form(team, portfolio.links.filter(registry.LINKED_FROM_LIVE_PROJECT), request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a protected alias and a version of this model.")
        return redirect("registry:model", team.name, portfolio.name)
    link = get_object_or_404(
        ArtifactLink, portfolio=portfolio, version_index=form.cleaned_data["version"]
    )
    link.portfolio = portfolio
    try:
        registry.portfolio_aliases_set(
            link=link, add=[form.cleaned_data["alias"]], actor=request.user
        )
    except RunsError as error:
        messages.error(request, str(error))
        return redirect("registry:model", team.name, portfolio.name)
    messages.success(request, f"{form.cleaned_data['alias']} now points at {link.version}.")
    return redirect("registry:model", team.name, portfolio.name)
