from django.contrib import admin
from django.urls import include, path

from projects import views as project_views
from reports import share_views as report_share_views
from runs import views as run_views
from teams import views as team_views

from . import health

urlpatterns = [
    path("", include("home.urls")),
    # Probes for a load balancer (see teamsite/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("settings/", include("accounts.urls")),
    path("invitations/<str:token>/", team_views.invitation, name="invitation"),
    # A view-only link to a report: the token is the credential, outside every project.
    path("shared/reports/<str:token>/", report_share_views.shared_report, name="shared_report"),
    path(
        "shared/reports/<str:token>/export.html",
        report_share_views.shared_report_export,
        name="shared_report_export",
    ),
    path("projects/new/", project_views.create_project, name="project_create"),
    path("", include("api.urls")),
    path("", include("teams.urls")),
    path("", include("alerts.team_urls")),
    path("", include("artifacts.registry_urls")),
    path("", include("alerts.notification_urls")),
    # Entity and project URLs take any name, so they come last.
    path("<str:entity>/", project_views.entity_page, name="entity"),
    path("<str:entity>/<str:project>/", run_views.project_page, name="project"),
    path("", include("projects.urls")),
    path("", include("runs.urls")),
    path("", include("alerts.urls")),
    path("", include("reports.urls")),
    path("", include("artifacts.urls")),
    path("", include("sweeps.urls")),
]
