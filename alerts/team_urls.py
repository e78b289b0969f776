from django.urls import path

from . import webhook_views as views

app_name = "webhooks"

WEBHOOKS = "teams/<str:name>/webhooks/"
WEBHOOK = WEBHOOKS + "<str:key>/"

urlpatterns = [
    path(WEBHOOKS, views.webhooks, name="list"),
    path(WEBHOOKS + "new/", views.create_webhook, name="create"),
    path(WEBHOOK, views.edit_webhook, name="edit"),
    path(WEBHOOK + "secret/", views.rotate_webhook_secret, name="rotate_secret"),
    path(WEBHOOK + "test/", views.test_webhook, name="test"),
    path(WEBHOOK + "delete/", views.delete_webhook, name="delete"),
]
