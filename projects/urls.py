from django.urls import path

from . import trash_views, views

app_name = "projects"

urlpatterns = [
    path("teams/<str:name>/settings/privacy/", views.set_team_privacy, name="set_team_privacy"),
    # "projects" is a reserved project name, so these cannot be taken for a project's pages.
    path("<str:entity>/projects/trash/", trash_views.project_trash, name="trash"),
    path(
        "<str:entity>/projects/trash/<str:project>/restore/",
        trash_views.restore_project,
        name="restore",
    ),
    path(
        "<str:entity>/projects/trash/<str:project>/delete/",
        trash_views.delete_project_forever,
        name="delete_forever",
    ),
    path("<str:entity>/<str:project>/settings/", views.project_settings, name="settings"),
    path("<str:entity>/<str:project>/settings/delete/", views.delete_project, name="delete"),
]
