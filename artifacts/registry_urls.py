"""The registry pages answer at /<team>/registry/, ahead of the project URLs (so no project
may be called "registry")."""

from django.urls import path

from . import registry_views as views

app_name = "registry"

urlpatterns = [
    path("<str:entity>/registry/", views.registry_list, name="list"),
    path("<str:entity>/registry/<str:name>/", views.registry_model, name="model"),
    path("<str:entity>/registry/<str:name>/aliases/", views.registry_move_alias, name="move_alias"),
]
