from django.urls import path

from . import (
    code_views,
    compare_views,
    grouping_views,
    panels_views,
    trash_views,
    views,
    views_saved,
)
from .media import table_views
from .media import views as media_views

app_name = "runs"

urlpatterns = [
    path("<str:entity>/<str:project>/move-runs/", views.move_runs, name="move"),
    path("<str:entity>/<str:project>/delete-runs/", views.delete_runs, name="delete"),
    path("<str:entity>/<str:project>/trash/", trash_views.trash_page, name="trash"),
    path(
        "<str:entity>/<str:project>/trash/restore/", trash_views.restore_runs, name="trash_restore"
    ),
    path(
        "<str:entity>/<str:project>/trash/delete-forever/",
        trash_views.delete_forever,
        name="trash_delete_forever",
    ),
    path("<str:entity>/<str:project>/runs/<str:run_id>/", views.run_detail, name="detail"),
    path("<str:entity>/<str:project>/runs/<str:run_id>/edit/", views.edit_run, name="edit"),
    path("<str:entity>/<str:project>/runs/<str:run_id>/rename/", views.rename_run, name="rename"),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/metric/",
        views.run_metric,
        name="metric",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/metric/export/",
        views.run_metric_export,
        name="metric_export",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/console/",
        views.run_console,
        name="console",
    ),
    path("<str:entity>/<str:project>/metric/", views.project_metric, name="project_metric"),
    path(
        "<str:entity>/<str:project>/metric/groups/",
        grouping_views.project_metric_groups,
        name="project_metric_groups",
    ),
    path(
        "<str:entity>/<str:project>/query-suggestions/",
        views.query_suggestions,
        name="query_suggestions",
    ),
    path("<str:entity>/<str:project>/workspace/", views.workspace, name="workspace"),
    path("<str:entity>/<str:project>/panels/add/", panels_views.add_panel, name="panel_add"),
    path("<str:entity>/<str:project>/compare/", compare_views.compare_runs, name="compare"),
    path("<str:entity>/<str:project>/views/", views_saved.create_view, name="view_create"),
    path("<str:entity>/<str:project>/views/<str:key>/", views_saved.open_view, name="view_open"),
    path(
        "<str:entity>/<str:project>/views/<str:key>/rename/",
        views_saved.rename_view,
        name="view_rename",
    ),
    path(
        "<str:entity>/<str:project>/views/<str:key>/update/",
        views_saved.update_view,
        name="view_update",
    ),
    path(
        "<str:entity>/<str:project>/views/<str:key>/delete/",
        views_saved.delete_view,
        name="view_delete",
    ),
    path(
        "<str:entity>/<str:project>/leaderboard/",
        views_saved.leaderboard_page,
        name="leaderboard",
    ),
    path(
        "<str:entity>/<str:project>/leaderboard.csv",
        views_saved.leaderboard_csv,
        name="leaderboard_csv",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/files/<path:name>",
        views.run_file,
        name="file",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/code/<path:name>",
        code_views.run_code,
        name="code",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/download/<path:name>",
        views.run_file_download,
        name="file_download",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/thumbnails/<path:name>",
        media_views.run_thumbnail,
        name="thumbnail",
    ),
    path(
        "media/thumbnails/<str:token>/",
        media_views.signed_thumbnail,
        name="signed_thumbnail",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/media/",
        media_views.run_media_step,
        name="media",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/custom-chart/",
        media_views.run_custom_chart,
        name="custom_chart",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/table/",
        table_views.run_table,
        name="table",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/table.csv",
        table_views.run_table_csv,
        name="table_csv",
    ),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/media-html/<path:name>",
        media_views.run_media_html,
        name="media_html",
    ),
    path(
        "<str:entity>/<str:project>/workspace/media/",
        media_views.workspace_media_rows,
        name="workspace_media",
    ),
]
