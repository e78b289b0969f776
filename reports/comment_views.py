"""Comments on a report's page: the thread of the report (at the bottom of the page) and of
each block (opened under it). htmx swaps a thread in place; without JavaScript, a block's
thread is a page of its own and a comment posted returns to the page it was written on.

Only the team sees comments: everyone else (public readers too) gets 404 here, as if there
were none."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from projects.access import get_project_for_user
from teams.access import may_change_own, viewer_refusal

from . import comments
from .access import can_comment, get_report_for_user, is_team_member
from .forms import CommentForm
from .models import ReportComment


def page_comments(request, project, report, blocks, *, current_keys=None) -> dict:
    """What a report page shows of the comments (team members only): each block's count
    (`comment_count`) and the report's thread. Two queries, whatever the number of blocks and
    comments. `current_keys`: the latest version's blocks when the page shows another."""
    counts = comments.comment_counts(report)
    for block in blocks:
        block.comment_count = counts.get(block.key, 0)
    if current_keys is None:
        current_keys = {block.key for block in blocks}
    thread = comments.thread_of(report, "", user=request.user, current_keys=current_keys)
    return {"report_thread": thread, "comment_form": CommentForm()}


def _team_report(request, entity, project, report_key):
    project = get_project_for_user(request, entity, project)
    if not is_team_member(project):
        raise Http404("No such report.")
    return get_report_for_user(request, project, report_key)


def _back(request, report) -> str:
    """Where a plain form returns: the page of this report it was posted from."""
    back = request.POST.get("next", "")
    if back.startswith(report.get_absolute_url()) and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        return back.split("#")[0]
    return report.get_absolute_url()


def _thread_answer(request, report, block_key, *, form=None, status=200):
    current_keys = None if block_key else comments.current_block_keys(report)
    context = {
        "project": report.project,
        "report": report,
        "thread": comments.thread_of(
            report, block_key, user=request.user, current_keys=current_keys
        ),
        "comment_form": form or CommentForm(),
    }
    # htmx swaps only 2xx answers: the partial carries a form's errors at 200.
    if request.htmx:
        return render(request, "reports/_comments.html#thread", context)
    return render(request, "reports/comments.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def thread(request, entity, project, report_key):
    """GET: a thread (`?block=<key>`; none: the report's). POST: a comment on it."""
    report = _team_report(request, entity, project, report_key)
    if request.method == "POST" and not can_comment(report.project):
        raise PermissionDenied(viewer_refusal(report.project.entity, "write comments"))
    data = request.POST if request.method == "POST" else request.GET
    block_key = data.get("block", "")
    try:
        comments.require_known_block(report, block_key)
    except comments.UnknownBlock as error:
        if request.method != "POST":
            raise Http404(str(error)) from None
        return HttpResponseBadRequest(str(error))
    if request.method != "POST":
        return _thread_answer(request, report, block_key)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = comments.comment_add(
                report=report,
                author=request.user,
                body=form.cleaned_data["body"],
                block_key=block_key,
            )
        except ValidationError as error:
            form.add_error("body", error.message_dict.get("body", error.messages))
        else:
            if request.htmx:
                return _thread_answer(request, report, block_key)
            return redirect(f"{_back(request, report)}#comment-{comment.pk}")
    return _thread_answer(request, report, block_key, form=form, status=400)


@login_required
@require_POST
def comment_delete(request, entity, project, report_key, comment_id):
    report = _team_report(request, entity, project, report_key)
    comment = get_object_or_404(ReportComment, report=report, pk=comment_id)
    if not may_change_own(
        report.project.viewer_entity_permissions, comment.author_id, request.user
    ):
        raise PermissionDenied("Only its author or a team admin deletes a comment.")
    comments.comment_delete(comment=comment)
    if request.htmx:
        # The thread the button was in: the report's holds comments on removed blocks too.
        shown = comment.block_key if request.POST.get("thread") == comment.block_key else ""
        return _thread_answer(request, report, shown)
    messages.success(request, "Deleted the comment.")
    return redirect(_back(request, report))
