from django.urls import path

from . import views

app_name = "sweeps"

urlpatterns = [
    path("<str:entity>/<str:project>/sweeps/", views.sweep_list, name="list"),
    path("<str:entity>/<str:project>/sweeps/<str:name>/", views.sweep_detail, name="detail"),
    path("<str:entity>/<str:project>/sweeps/<str:name>/state/", views.sweep_state, name="state"),
]
