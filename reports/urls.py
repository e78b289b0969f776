from django.urls import path

from . import comment_views, share_views, views

app_name = "reports"

PROJECT = "<str:entity>/<str:project>/reports/"
REPORT = PROJECT + "<str:report_key>/"
BLOCK = REPORT + "blocks/<str:block_key>/"

urlpatterns = [
    path(PROJECT, views.report_list, name="list"),
    path(PROJECT + "new/", views.report_create, name="create"),
    path(REPORT, views.report_detail, name="detail"),
    path(REPORT + "export.html", views.report_export, name="export"),
    path(REPORT + "edit/", views.report_edit, name="edit"),
    path(REPORT + "publish/", views.report_publish, name="publish"),
    path(REPORT + "delete/", views.report_delete, name="delete"),
    path(REPORT + "freeze/", views.report_freeze, name="freeze"),
    path(REPORT + "history/", views.report_history, name="history"),
    path(REPORT + "versions/<int:number>/", views.report_version, name="version"),
    path(REPORT + "visibility/", share_views.report_visibility, name="visibility"),
    path(REPORT + "share/", share_views.report_share, name="share"),
    path(REPORT + "share/new/", share_views.share_link_create, name="share_link_create"),
    path(
        REPORT + "share/<str:link>/revoke/", share_views.share_link_revoke, name="share_link_revoke"
    ),
    path(REPORT + "blocks/new/", views.block_new, name="block_new"),
    path(REPORT + "comments/", comment_views.thread, name="comments"),
    path(
        REPORT + "comments/<int:comment_id>/delete/",
        comment_views.comment_delete,
        name="comment_delete",
    ),
    path(BLOCK, views.block_edit, name="block_edit"),
    path(BLOCK + "move/", views.block_move, name="block_move"),
    path(BLOCK + "delete/", views.block_delete, name="block_delete"),
]
