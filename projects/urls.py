from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    path("teams/<str:name>/settings/privacy/", views.set_team_privacy, name="set_team_privacy"),
    path("<str:entity>/<str:project>/settings/", views.project_settings, name="settings"),
    path("<str:entity>/<str:project>/settings/delete/", views.delete_project, name="delete"),
]
