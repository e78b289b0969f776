"""Sharing a report: its visibility, its view-only links (the Share page, creating and
revoking them) and the page a link opens. Whoever holds a link reads the report's published
version outside its project and nothing else: to the rest of the site they are who they were."""

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from projects.access import get_project_for_user

from . import share
from .access import get_report_for_user
from .forms import ShareLinkForm, VisibilityForm, add_config_errors
from .models import ReportShareLink
from .views import editor_page, export_response, render_report

# The raw link of a share link just made, kept in the session until the Share page it
# redirects to has shown it once (as for invitations).
NEW_LINK = "reports.new_share_link"
LINK_ID = 16  # hex characters of the token's hash that name a link in URLs


def _editable(request, entity, project, report_key):
    project = get_project_for_user(request, entity, project)
    return project, get_report_for_user(request, project, report_key, edit=True)


def link_id(link: ReportShareLink) -> str:
    return link.token_hash[:LINK_ID]


def _link_url(request, raw_token: str) -> str:
    path = reverse("shared_report", args=[raw_token])
    return settings.SITE_URL + path if settings.SITE_URL_SET else request.build_absolute_uri(path)


@csp_override(settings.CHART_PAGE_CSP)  # a refusal answers with the editor and its charts
@login_required
@require_POST
def report_visibility(request, entity, project, report_key):
    project, report = _editable(request, entity, project, report_key)
    form = VisibilityForm(request.POST)
    if form.is_valid():
        try:
            share.report_set_visibility(
                report=report, visibility=form.cleaned_data["visibility"], actor=request.user
            )
        except ValidationError as error:
            add_config_errors(form, error)
        else:
            messages.success(request, f"Readers: {report.get_visibility_display().lower()}.")
            return redirect(report.get_edit_url())
    return editor_page(request, project, report, visibility_form=form, status=400)


def _share_page(request, project, report, *, form=None, status=200):
    links = list(report.share_links.select_related("created_by"))
    now = timezone.now()
    for link in links:
        link.state = share.share_link_state(link, now)
        link.public_id = link_id(link)
    new_link = request.session.pop(NEW_LINK, None)
    if new_link and new_link["report"] != report.key:
        new_link = None
    if new_link:
        new_link["expires_at"] = datetime.fromisoformat(new_link["expires_at"])
    context = {
        "project": project,
        "report": report,
        "links": links,
        "form": form or ShareLinkForm(),
        "published": report.versions.exists(),
        "new_link": new_link,
    }
    response = render(request, "reports/share.html", context, status=status)
    if new_link:
        patch_cache_control(response, no_store=True)  # the link is not kept for Back
    return response


@login_required
@require_GET
def report_share(request, entity, project, report_key):
    project, report = _editable(request, entity, project, report_key)
    return _share_page(request, project, report)


@login_required
@require_POST
def share_link_create(request, entity, project, report_key):
    project, report = _editable(request, entity, project, report_key)
    form = ShareLinkForm(request.POST)
    if form.is_valid():
        try:
            link, raw = share.share_link_create(
                report=report,
                actor=request.user,
                label=form.cleaned_data["label"],
                days=form.cleaned_data["days"],
            )
        except ValidationError as error:
            add_config_errors(form, error)
        else:
            request.session[NEW_LINK] = {
                "report": report.key,
                "url": _link_url(request, raw),
                "expires_at": link.expires_at.isoformat(),
            }
            return redirect("reports:share", project.entity.name, project.name, report.key)
    return _share_page(request, project, report, form=form, status=400)


@login_required
@require_POST
def share_link_revoke(request, entity, project, report_key, link):
    project, report = _editable(request, entity, project, report_key)
    if len(link) != LINK_ID:
        raise Http404("No such link.")
    found = get_object_or_404(ReportShareLink, report=report, token_hash__startswith=link)
    share.share_link_revoke(link=found, actor=request.user)
    messages.success(request, "Revoked the link: it no longer opens the report.")
    return redirect("reports:share", project.entity.name, project.name, report.key)


def _shared(token: str):
    """(link, project, report) of an active link; the holder has no rights in the project,
    whoever they are signed in as."""
    link = share.active_link(token)
    if link is None:
        raise Http404("No such link.")
    report = link.report
    project = report.project
    project.viewer_rights, project.viewer_entity_permissions = set(), set()
    return link, project, report


def _private(response):
    response["Referrer-Policy"] = "no-referrer"  # the token stays out of other sites' logs
    response["X-Robots-Tag"] = "noindex"
    patch_cache_control(response, private=True, no_store=True)
    return response


@csp_override(settings.CHART_PAGE_CSP)  # Plotly adds its stylesheet at run time
@require_GET
def shared_report(request, token):
    link, project, report = _shared(token)
    export_url = reverse("shared_report_export", args=[token])
    response = render_report(request, project, report, outside=True, export_url=export_url)
    share.share_link_used(link)  # after render_report, which is 404 if never published
    return _private(response)


@require_GET
def shared_report_export(request, token):
    link, project, report = _shared(token)
    if not report.versions.exists():
        raise Http404("No such report.")
    share.share_link_used(link)
    # No source address in the file: the link's token would travel with it.
    return _private(export_response(project, report, source_url="", outside=True))
