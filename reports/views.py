"""The report pages of a project: the list, a report as readers see it, its editor (htmx
swaps one block or the list of blocks; every action also works as a plain form), publishing,
and the history of versions."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from projects.access import get_project_for_user
from teamsite.lib.emails import absolute_url

from . import export, selectors, services
from .access import (
    can_create_reports,
    can_edit_report,
    get_report_for_reader,
    get_report_for_user,
    is_team_member,
    require_report_creation,
)
from .comment_views import page_comments
from .comments import current_block_keys
from .forms import PublishForm, ReportForm, VisibilityForm, add_config_errors, block_form
from .models import ReportBlock
from .panels import render_blocks, without_site_addresses


@require_GET
def report_list(request, entity, project):
    project = get_project_for_user(request, entity, project)
    context = {
        "project": project,
        "reports": selectors.project_reports(project, member=is_team_member(project)),
        "can_create": can_create_reports(project),
        "form": ReportForm(),
    }
    return render(request, "reports/list.html", context)


@login_required
@require_POST
def report_create(request, entity, project):
    project = get_project_for_user(request, entity, project)
    require_report_creation(project)
    form = ReportForm(request.POST)
    if form.is_valid():
        report = services.report_create(
            project=project, title=form.cleaned_data["title"], actor=request.user
        )
        return redirect(report.get_edit_url())
    context = {
        "project": project,
        "reports": selectors.project_reports(project, member=True),
        "can_create": True,
        "form": form,
    }
    return render(request, "reports/list.html", context, status=400)


@csp_override(settings.CHART_PAGE_CSP)  # Plotly adds its stylesheet at run time
@require_GET
def report_detail(request, entity, project, report_key):
    project, report, outside = get_report_for_reader(request, entity, project, report_key)
    return render_report(request, project, report, outside=outside)


def render_report(request, project, report, *, outside: bool, export_url: str = ""):
    """A report as it reads: the latest version, or for the team a never-published draft.
    `outside` (a public reader who may not see the project, a share link): the published
    version only, and the template shows nothing that leads into the project."""
    version, title, blocks = selectors.shown_content(report)
    if version is None and outside:  # the access checks allow published reports only
        raise Http404("No such report.")
    blocks = render_blocks(project, blocks)
    if outside:
        without_site_addresses(blocks)
    context = {
        "project": project,
        "report": report,
        "version": version,
        "title": title,
        "blocks": blocks,
        "outside": outside,
        "export_url": export_url or report.get_export_url(),
        "can_edit": not outside and can_edit_report(project, report, request.user),
        "is_member": not outside and is_team_member(project),
    }
    if context["is_member"]:
        context.update(page_comments(request, project, report, blocks))
    return render(request, "reports/detail.html", context)


@require_GET
def report_export(request, entity, project, report_key):
    """The report as one HTML file that reads offline (reports/export.py), as a download, for
    whoever reads its page (outside the team too)."""
    project, report, outside = get_report_for_reader(request, entity, project, report_key)
    source_url = absolute_url(report.get_absolute_url())
    return export_response(project, report, source_url=source_url, outside=outside)


def export_response(project, report, *, source_url: str, outside: bool) -> HttpResponse:
    filename, html = export.report_html(project, report, source_url=source_url, outside=outside)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _team_only(project):
    if not is_team_member(project):
        raise Http404("No such report.")


@login_required
@require_GET
def report_history(request, entity, project, report_key):
    project = get_project_for_user(request, entity, project)
    _team_only(project)
    report = get_report_for_user(request, project, report_key)
    context = {
        "project": project,
        "report": report,
        "versions": selectors.version_history(report),
        "can_edit": can_edit_report(project, report, request.user),
    }
    return render(request, "reports/history.html", context)


@csp_override(settings.CHART_PAGE_CSP)
@login_required
@require_GET
def report_version(request, entity, project, report_key, number):
    project = get_project_for_user(request, entity, project)
    _team_only(project)
    report = get_report_for_user(request, project, report_key)
    version = get_object_or_404(report.versions.select_related("published_by"), number=number)
    blocks = render_blocks(project, version.blocks)
    context = {
        "project": project,
        "report": report,
        "version": version,
        "title": version.title,
        "blocks": blocks,
        "old_version": True,
        "can_edit": can_edit_report(project, report, request.user),
        "is_member": True,
        **page_comments(request, project, report, blocks, current_keys=current_block_keys(report)),
    }
    return render(request, "reports/detail.html", context)


def editor_page(request, project, report, *, title_form=None, visibility_form=None, status=200):
    context = {
        "project": project,
        "report": report,
        "title_form": title_form or ReportForm(initial={"title": report.title}),
        "visibility_form": visibility_form
        or VisibilityForm(initial={"visibility": report.visibility}),
        "team_private": project.entity.is_private,
        "publish_form": PublishForm(),
        "blocks": _draft_blocks(project, report),
        "kinds": ReportBlock.Kind.choices,
        "version": selectors.latest_version(report),
    }
    context["frozen"] = services.is_frozen(block.config for block in context["blocks"])
    return render(request, "reports/editor.html", context, status=status)


def _draft_blocks(project, report):
    return render_blocks(project, [block.snapshot() for block in report.blocks.all()])


def _blocks_answer(request, project, report):
    """After a change to the list: the list (htmx) or the editor again (a plain form)."""
    if request.htmx:
        context = {"project": project, "report": report, "blocks": _draft_blocks(project, report)}
        return render(request, "reports/editor.html#blocks", context)
    return redirect(report.get_edit_url())


@csp_override(settings.CHART_PAGE_CSP)
@login_required
def report_edit(request, entity, project, report_key):
    project = get_project_for_user(request, entity, project)
    report = get_report_for_user(request, project, report_key, edit=True)
    if request.method != "POST":
        return editor_page(request, project, report)
    form = ReportForm(request.POST)
    if form.is_valid():
        services.report_rename(report=report, title=form.cleaned_data["title"])
        messages.success(request, "Saved the title.")
        return redirect(report.get_edit_url())
    return editor_page(request, project, report, title_form=form, status=400)


def _form_answer(request, project, report, form, *, kind, block=None, status=200):
    context = {"project": project, "report": report, "form": form, "kind": kind, "block": block}
    # htmx swaps only 2xx answers: the partial carries its errors at 200.
    if request.htmx:
        return render(request, "reports/block_form.html#block_form", context)
    return render(request, "reports/block_form.html", context, status=status)


@login_required
def block_new(request, entity, project, report_key):
    project = get_project_for_user(request, entity, project)
    report = get_report_for_user(request, project, report_key, edit=True)
    kind = request.POST.get("kind") or request.GET.get("kind", "")
    if kind not in ReportBlock.Kind.values:
        messages.error(request, "Choose a kind of block.")
        return redirect(report.get_edit_url())
    if request.method != "POST":
        return _form_answer(request, project, report, block_form(kind), kind=kind)
    form = block_form(kind, data=request.POST)
    if form.is_valid():
        try:
            services.block_add(report=report, kind=kind, config=form.config())
        except ValidationError as error:
            add_config_errors(form, error)
        else:
            response = _blocks_answer(request, project, report)
            if request.htmx:  # the form sits in the list's new-block slot: the list replaces it
                response["HX-Retarget"] = "#report-blocks"
                response["HX-Reswap"] = "outerHTML"
            return response
    return _form_answer(request, project, report, form, kind=kind, status=400)


def _block(report, block_key):
    return get_object_or_404(
        ReportBlock.objects.select_related("report"), report=report, key=block_key
    )


@login_required
def block_edit(request, entity, project, report_key, block_key):
    project = get_project_for_user(request, entity, project)
    report = get_report_for_user(request, project, report_key, edit=True)
    block = _block(report, block_key)
    if request.method != "POST":
        form = block_form(block.kind, config=block.config)
        return _form_answer(request, project, report, form, kind=block.kind, block=block)
    form = block_form(block.kind, data=request.POST, config=block.config)
    if form.is_valid():
        try:
            services.block_update(block=block, config=form.config())
        except ValidationError as error:
            add_config_errors(form, error)
        else:
            if request.htmx:
                context = {
                    "project": project,
                    "report": report,
                    "block": render_blocks(project, [block.snapshot()])[0],
                }
                return render(request, "reports/_editor_block.html", context)
            return redirect(report.get_edit_url())
    return _form_answer(request, project, report, form, kind=block.kind, block=block, status=400)


@login_required
@require_POST
def block_move(request, entity, project, report_key, block_key):
    project = get_project_for_user(request, entity, project)
    report = get_report_for_user(request, project, report_key, edit=True)
    try:
        services.block_move(
            block=_block(report, block_key), direction=request.POST.get("direction", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(report.get_edit_url())
    return _blocks_answer(request, project, report)


@login_required
@require_POST
def block_delete(request, entity, project, report_key, block_key):
    project = get_project_for_user(request, entity, project)
    report = get_report_for_user(request, project, report_key, edit=True)
    services.block_delete(block=_block(report, block_key))
    return _blocks_answer(request, project, report)


@login_required
@require_POST
def report_publish(request, entity, project, report_key):
    project = get_project_for_user(request, entity, project)
    report = get_report_for_user(request, project, report_key, edit=True)
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A note of at most 500 characters.")
        return redirect(report.get_edit_url())
    version = services.report_publish(
        report=report, actor=request.user, note=form.cleaned_data["note"]
    )
    messages.success(request, f"Published version {version.number}.")
    return redirect(report.get_absolute_url())


@login_required
@require_POST
def report_freeze(request, entity, project, report_key):
    """POST action=freeze: fix the draft's query panels to the runs they match now;
    action=unfreeze: let them follow their queries again."""
    project = get_project_for_user(request, entity, project)
    report = get_report_for_user(request, project, report_key, edit=True)
    action = request.POST.get("action", "")
    if action == "freeze":
        count = services.report_freeze(report=report, actor=request.user)
        messages.success(request, f"Froze the runs of {count} panel{'s' if count != 1 else ''}.")
    elif action == "unfreeze":
        count = services.report_unfreeze(report=report, actor=request.user)
        messages.success(request, f"Unfroze {count} panel{'s' if count != 1 else ''}.")
    else:
        return HttpResponseBadRequest("Freeze or unfreeze the run sets.")
    return redirect(report.get_edit_url())


@login_required
@require_POST
def report_delete(request, entity, project, report_key):
    project = get_project_for_user(request, entity, project)
    report = get_report_for_user(request, project, report_key, edit=True)
    services.report_delete(report=report)
    messages.success(request, f"Deleted the report “{report.title}”.")
    return redirect("reports:list", project.entity.name, project.name)
