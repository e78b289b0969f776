from django.urls import path

from . import views

# The home and search answer at the top (no app_name): "home" is the sign-in redirect target.
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
]
