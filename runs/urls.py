from django.urls import path

from . import views

app_name = "runs"

urlpatterns = [
    path("<str:entity>/<str:project>/move-runs/", views.move_runs, name="move"),
    path("<str:entity>/<str:project>/delete-runs/", views.delete_runs, name="delete"),
    path("<str:entity>/<str:project>/runs/<str:run_id>/", views.run_detail, name="detail"),
    path("<str:entity>/<str:project>/runs/<str:run_id>/edit/", views.edit_run, name="edit"),
    path(
        "<str:entity>/<str:project>/runs/<str:run_id>/files/<path:name>",
        views.run_file,
        name="file",
    ),
    path(
        "<str:entity>/<str:project>/artifacts/<str:collection>/v<int:version>/files/<path:name>",
        views.artifact_file,
        name="artifact_file",
    ),
]
