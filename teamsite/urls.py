from django.contrib import admin
from django.urls import include, path

from teams import views as team_views

urlpatterns = [
    path("", team_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("settings/", include("accounts.urls")),
    path("invitations/<str:token>/", team_views.invitation, name="invitation"),
    path("", include("teams.urls")),
]
