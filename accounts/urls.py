from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<uuid:key_id>/revoke/", views.revoke_api_key, name="revoke_api_key"),
]
