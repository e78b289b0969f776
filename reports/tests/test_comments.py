"""Comments on a report and on its blocks: the services, who may read, write and delete them,
the htmx and plain-form answers, and what the report page costs with them."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from reports import comments, services
from reports.models import ReportBlock, ReportComment
from teams.access import entity_permissions
from tests.factories import ProjectFactory

Kind = ReportBlock.Kind
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, report, *args):
    project = report.project
    return reverse(f"reports:{name}", args=[project.entity.name, project.name, report.key, *args])


@pytest.fixture
def report(project, bob):
    """bob's report: a text block and a chart, published once."""
    report = services.report_create(project=project, title="Week 12", actor=bob)
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "Loss fell."})
    services.block_add(
        report=report, kind=Kind.LINE_CHART, config={"metrics": ["loss"], "runs": {"query": ""}}
    )
    services.report_publish(report=report, actor=bob)
    return report


def chart_key(report):
    return report.blocks.get(kind=Kind.LINE_CHART).key


def with_rights(report, user):
    """The report as the views hand it to the services: its project with `user`'s rights."""
    report.project.viewer_entity_permissions = entity_permissions(user, report.project.entity)
    return report


# Services


def test_a_comment_is_kept_stripped_on_the_report_or_a_block(report, erin):
    on_report = comments.comment_add(report=report, author=erin, body="  Nice work.\n")
    on_chart = comments.comment_add(
        report=report, author=erin, body="Why the spike?", block_key=chart_key(report)
    )
    assert (on_report.body, on_report.block_key) == ("Nice work.", "")
    assert on_chart.block_key == chart_key(report)
    assert comments.comment_counts(report) == {"": 1, chart_key(report): 1}


@pytest.mark.parametrize("body", ["", "   \n", "x" * 5001])
def test_an_empty_or_too_long_comment_is_refused(report, erin, body):
    with pytest.raises(ValidationError) as refused:
        comments.comment_add(report=report, author=erin, body=body)
    assert "body" in refused.value.message_dict
    assert not ReportComment.objects.exists()


def test_a_comment_of_five_thousand_characters_is_kept(report, erin):
    comment = comments.comment_add(report=report, author=erin, body="x" * 5000)
    assert len(comment.body) == 5000


def test_the_author_and_earlier_writers_of_the_thread_hear_of_a_comment(
    report, alice, bob, erin, mailoutbox, django_capture_on_commit_callbacks
):
    chart = chart_key(report)
    with django_capture_on_commit_callbacks(execute=True):
        comments.comment_add(report=report, author=erin, body="Why the spike?", block_key=chart)
    assert [message.to for message in mailoutbox] == [[bob.email]]
    assert "erin commented on “Week 12”" in mailoutbox[0].subject
    assert "Why the spike?" in mailoutbox[0].body
    assert f"#comment-{ReportComment.objects.get().pk}" in mailoutbox[0].body

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        comments.comment_add(report=report, author=alice, body="A bad batch.", block_key=chart)
        comments.comment_add(report=report, author=alice, body="On the report.")
    # bob wrote the report, erin the thread; alice is never told of her own comments, and
    # erin wrote nothing in the report's own thread.
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        [bob.email, erin.email, bob.email]
    )


def test_someone_who_left_the_team_hears_of_no_comment(
    report, alice, bob, erin, mailoutbox, django_capture_on_commit_callbacks
):
    bob.memberships.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        comments.comment_add(report=report, author=erin, body="Still here?")
    assert mailoutbox == []


def test_a_comment_names_a_block_of_the_draft_or_of_a_version(report, bob, erin):
    chart = report.blocks.get(kind=Kind.LINE_CHART)
    services.block_delete(block=chart)  # still in version 1
    draft_only = services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "new"})
    comments.comment_add(report=report, author=erin, body="old", block_key=chart.key)
    comments.comment_add(report=report, author=erin, body="new", block_key=draft_only.key)
    with pytest.raises(comments.UnknownBlock):
        comments.comment_add(report=report, author=erin, body="lost", block_key="nope")
    assert ReportComment.objects.count() == 2


def test_the_report_thread_holds_comments_on_removed_blocks(report, bob, erin):
    chart = chart_key(report)
    comments.comment_add(report=report, author=erin, body="on the report")
    comments.comment_add(report=report, author=erin, body="on the chart", block_key=chart)
    report = with_rights(report, bob)

    current = comments.current_block_keys(report)
    assert chart in current
    thread = comments.thread_of(report, "", user=bob, current_keys=current)
    assert [c.body for c in thread.comments] == ["on the report"] and thread.removed == []
    panel = comments.thread_of(report, chart, user=bob)
    assert [c.body for c in panel.comments] == ["on the chart"]

    services.block_delete(block=report.blocks.get(key=chart))
    services.report_publish(report=report, actor=bob)
    current = comments.current_block_keys(report)
    thread = comments.thread_of(report, "", user=bob, current_keys=current)
    assert [c.body for c in thread.comments] == ["on the report"]
    assert [c.body for c in thread.removed] == ["on the chart"]
    assert thread.count == 2


def test_a_comment_reads_as_sanitized_markdown(report, bob, erin):
    comments.comment_add(
        report=report, author=erin, body="**bold** <script>alert(1)</script> [x](javascript:y)"
    )
    report = with_rights(report, bob)
    (comment,) = comments.thread_of(report, "", user=bob, current_keys=set()).comments
    assert "<strong>bold</strong>" in comment.html
    assert "<script" not in comment.html and "&lt;script&gt;" in comment.html
    assert "href" not in comment.html


def test_authors_and_admins_may_delete_a_comment(report, alice, bob, erin):
    comments.comment_add(report=report, author=erin, body="erin's")
    for user, may in ((erin, True), (alice, True), (bob, False)):
        report = with_rights(report, user)
        (comment,) = comments.thread_of(report, "", user=user, current_keys=set()).comments
        assert comment.can_delete is may, user


# Who may read and write


def test_members_read_comments_on_the_report_page(client, report, bob, erin):
    comments.comment_add(report=report, author=erin, body="Nice *work*.")
    comments.comment_add(report=report, author=erin, body="chart note", block_key=chart_key(report))
    client.force_login(bob)
    page = client.get(url("detail", report)).content.decode()
    assert "Nice <em>work</em>." in page
    assert "Comments (1)" in page  # the chart's count
    assert "chart note" not in page  # its thread opens on demand
    assert f'id="comments-{chart_key(report)}"' in page


def test_members_read_comments_on_an_old_version_and_on_a_draft(client, project, report, bob):
    comments.comment_add(report=report, author=bob, body="on version one")
    services.report_publish(report=report, actor=bob)
    client.force_login(bob)
    assert "on version one" in client.get(url("version", report, 1)).content.decode()
    draft = services.report_create(project=project, title="Draft", actor=bob)
    comments.comment_add(report=draft, author=bob, body="on the draft")
    assert "on the draft" in client.get(url("detail", draft)).content.decode()


def test_member_comments_on_the_report_with_a_plain_form(client, report, erin):
    client.force_login(erin)
    response = client.post(
        url("comments", report), {"body": "Looks good.", "next": url("detail", report)}
    )
    comment = ReportComment.objects.get()
    assert (comment.author, comment.block_key, comment.body) == (erin, "", "Looks good.")
    assert response.status_code == 302
    assert response["Location"] == url("detail", report) + f"#comment-{comment.pk}"


def test_a_plain_form_returns_only_to_a_page_of_the_report(client, report, erin):
    client.force_login(erin)
    response = client.post(url("comments", report), {"body": "x", "next": "https://evil.example/"})
    assert response["Location"].startswith(url("detail", report) + "#comment-")


def test_member_comments_on_a_panel_with_htmx(client, report, erin):
    client.force_login(erin)
    key = chart_key(report)
    opened = client.get(url("comments", report), {"block": key}, **HTMX)
    assert opened.status_code == 200 and "Comments (0)" in opened.content.decode()
    assert "<html" not in opened.content.decode()
    response = client.post(url("comments", report), {"block": key, "body": "A *spike*"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and f'id="thread-{key}"' in body
    assert "A <em>spike</em>" in body and "Comments (1)" in body
    assert ReportComment.objects.get().block_key == key


def test_a_panel_thread_is_a_page_without_javascript(client, report, erin):
    comments.comment_add(report=report, author=erin, body="chart note", block_key=chart_key(report))
    client.force_login(erin)
    response = client.get(url("comments", report), {"block": chart_key(report)})
    assert response.status_code == 200
    assert "<html" in response.content.decode() and "chart note" in response.content.decode()


@pytest.mark.parametrize(
    ("body", "error"), [("  ", "Write a comment."), ("x" * 5001, "at most 5000 characters")]
)
def test_a_bad_comment_is_a_form_error_and_nothing_is_kept(client, report, erin, body, error):
    client.force_login(erin)
    plain = client.post(url("comments", report), {"body": body})
    assert plain.status_code == 400 and error in plain.content.decode()
    swapped = client.post(url("comments", report), {"body": body}, **HTMX)
    assert swapped.status_code == 200 and error in swapped.content.decode()
    assert not ReportComment.objects.exists()


def test_a_comment_on_an_unknown_block_is_refused(client, report, erin):
    client.force_login(erin)
    response = client.post(url("comments", report), {"block": "nope", "body": "hi"})
    assert response.status_code == 400 and b"no such block" in response.content
    assert client.get(url("comments", report), {"block": "nope"}).status_code == 404
    assert not ReportComment.objects.exists()


def test_outsiders_get_404_on_comments_of_a_private_project(client, report, erin, charlie):
    comment = comments.comment_add(report=report, author=erin, body="team talk")
    client.force_login(charlie)
    assert client.get(url("comments", report)).status_code == 404
    assert client.post(url("comments", report), {"body": "hi"}).status_code == 404
    assert client.post(url("comment_delete", report, comment.pk)).status_code == 404
    assert ReportComment.objects.count() == 1


@pytest.fixture
def public_report(public_team, alice):
    public = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    report = services.report_create(project=public, title="Open findings", actor=alice)
    services.block_add(report=report, kind=Kind.TEXT, config={"markdown": "open words"})
    services.report_publish(report=report, actor=alice)
    report.visibility = report.Visibility.PUBLIC
    report.save(update_fields=["visibility"])
    return report


def test_readers_of_a_public_report_never_see_comments(client, public_report, alice, charlie):
    comment = comments.comment_add(report=public_report, author=alice, body="team talk")
    for who in (None, charlie):
        if who:
            client.force_login(who)
        page = client.get(url("detail", public_report)).content.decode()
        assert "open words" in page
        assert "team talk" not in page and "Comments (" not in page
    # charlie is signed in: 404 on every comment URL, nothing written or deleted.
    assert client.get(url("comments", public_report)).status_code == 404
    assert client.post(url("comments", public_report), {"body": "hi"}).status_code == 404
    assert client.post(url("comment_delete", public_report, comment.pk)).status_code == 404
    assert list(ReportComment.objects.values_list("body", flat=True)) == ["team talk"]


def test_anonymous_visitors_are_sent_to_sign_in(client, report):
    response = client.get(url("comments", report))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(("who", "status"), [("erin", 302), ("alice", 302), ("bob", 403)])
def test_a_comment_is_deleted_by_its_author_or_a_team_admin(
    client, report, erin, who, status, request
):
    comment = comments.comment_add(report=report, author=erin, body="erin's")
    client.force_login(request.getfixturevalue(who))
    response = client.post(url("comment_delete", report, comment.pk))
    assert response.status_code == status
    assert ReportComment.objects.filter(pk=comment.pk).exists() == (status == 403)


def test_deleting_with_htmx_swaps_the_thread(client, report, erin):
    key = chart_key(report)
    comment = comments.comment_add(report=report, author=erin, body="gone soon", block_key=key)
    client.force_login(erin)
    response = client.post(url("comment_delete", report, comment.pk), {"thread": key}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and f'id="thread-{key}"' in body
    assert "gone soon" not in body and "Comments (0)" in body


def test_deleting_only_in_this_report(client, project, report, bob, erin):
    other = services.report_create(project=project, title="Other", actor=bob)
    comment = comments.comment_add(report=other, author=erin, body="elsewhere")
    client.force_login(erin)
    assert client.post(url("comment_delete", report, comment.pk)).status_code == 404
    assert client.get(url("comment_delete", report, comment.pk)).status_code == 405
    assert ReportComment.objects.filter(pk=comment.pk).exists()


def test_comments_on_a_removed_panel_show_in_the_report_thread(client, report, bob, erin):
    key = chart_key(report)
    comments.comment_add(report=report, author=erin, body="about the chart", block_key=key)
    services.block_delete(block=report.blocks.get(key=key))
    services.report_publish(report=report, actor=bob)
    client.force_login(bob)
    page = client.get(url("detail", report)).content.decode()
    assert "On a removed panel" in page and "about the chart" in page
    # Version 1 still has the panel: its thread is under it, and the report's names it removed.
    old = client.get(url("version", report, 1)).content.decode()
    assert f'id="comments-{key}"' in old and "Comments (1)" in old


# What the page costs


@pytest.mark.parametrize(("blocks", "per_block"), [(1, 1), (6, 5)])
def test_report_page_queries_do_not_grow_with_comments_or_blocks(
    client, project, bob, erin, blocks, per_block, django_assert_num_queries
):
    report = services.report_create(project=project, title="Many", actor=bob)
    for index in range(blocks):
        block = services.block_add(report=report, kind=Kind.TEXT, config={"markdown": f"b{index}"})
        for _ in range(per_block):
            comments.comment_add(report=report, author=erin, body="on it", block_key=block.key)
            comments.comment_add(report=report, author=bob, body="on the report")
    services.report_publish(report=report, actor=bob)
    services.block_delete(block=report.blocks.first())
    services.report_publish(report=report, actor=bob)  # the first block's comments: removed
    client.force_login(bob)
    # Session, user, project, permissions, report, latest version; the counts and the thread.
    with django_assert_num_queries(6 + 2):
        response = client.get(url("detail", report))
    thread = response.context["report_thread"]
    assert len(thread.comments) == blocks * per_block and len(thread.removed) == per_block
    with django_assert_num_queries(6 + 3):  # an old version: the latest one's blocks too
        client.get(url("version", report, 1))


@pytest.mark.parametrize("count", [1, 8])
def test_a_thread_costs_the_same_whatever_its_length(
    client, report, erin, count, django_assert_num_queries
):
    key = chart_key(report)
    for _ in range(count):
        comments.comment_add(report=report, author=erin, body="more", block_key=key)
    client.force_login(erin)
    # Signed-in user, project and rights, the report, the keys of its blocks (draft and
    # versions) and the thread.
    with django_assert_num_queries(8):
        response = client.get(url("comments", report), {"block": key}, **HTMX)
    assert response.content.decode().count('class="comment"') == count
