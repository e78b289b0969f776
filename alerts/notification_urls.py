"""A person's notifications answer at /notifications/, ahead of the entity URLs (so no team or
user may be called "notifications")."""

from django.urls import path

from . import notification_views as views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/bell/", views.bell, name="bell"),
    path("notifications/read/", views.mark_all_read, name="read_all"),
    path("notifications/<int:notification_id>/open/", views.open_notification, name="open"),
]
