from django.shortcuts import render
from django.views.decorators.http import require_safe

from projects import selectors as project_selectors
from teams import selectors as team_selectors

from . import selectors
from .forms import SearchForm
from .search import search as search_everything


def home(request):
    if not request.user.is_authenticated:
        return render(request, "home/anonymous.html")
    user = request.user
    return render(
        request,
        "home/home.html",
        {
            "memberships": team_selectors.team_memberships_of(user),
            "default_entity": team_selectors.default_entity_of(user),
            "projects": project_selectors.recent_projects_of(user),
            "runs": selectors.recent_runs_of(user),
            "alerts": selectors.recent_alerts_of(user),
            "reports": selectors.recent_reports_of(user),
        },
    )


@require_safe
def search(request):
    """Open to anonymous visitors too: they find public projects and what they hold."""
    form = SearchForm(request.GET or None)
    groups = None
    if form.is_valid() and form.cleaned_data["q"]:
        groups = search_everything(request.user, form.cleaned_data["q"])
    return render(
        request,
        "home/search.html",
        {"form": form, "groups": groups, "query": form.data.get("q", "")},
        status=400 if form.errors else 200,
    )
