from django.urls import path

from . import views

app_name = "reports"

PROJECT = "<str:entity>/<str:project>/reports/"
REPORT = PROJECT + "<str:report_key>/"
BLOCK = REPORT + "blocks/<str:block_key>/"

urlpatterns = [
    path(PROJECT, views.report_list, name="list"),
    path(PROJECT + "new/", views.report_create, name="create"),
    path(REPORT, views.report_detail, name="detail"),
    path(REPORT + "edit/", views.report_edit, name="edit"),
    path(REPORT + "publish/", views.report_publish, name="publish"),
    path(REPORT + "delete/", views.report_delete, name="delete"),
    path(REPORT + "freeze/", views.report_freeze, name="freeze"),
    path(REPORT + "history/", views.report_history, name="history"),
    path(REPORT + "versions/<int:number>/", views.report_version, name="version"),
    path(REPORT + "blocks/new/", views.block_new, name="block_new"),
    path(BLOCK, views.block_edit, name="block_edit"),
    path(BLOCK + "move/", views.block_move, name="block_move"),
    path(BLOCK + "delete/", views.block_delete, name="block_delete"),
]
