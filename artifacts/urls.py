from django.urls import path

from . import views

app_name = "artifacts"

VERSION = "<str:entity>/<str:project>/artifacts/<str:type_name>/<str:collection>/<str:version>/"

urlpatterns = [
    path(
        "<str:entity>/<str:project>/artifacts/<str:collection>/v<int:version>/files/<path:name>",
        views.artifact_file,
        name="file",
    ),
    path(
        "<str:entity>/<str:project>/artifacts/<str:collection>/v<int:version>/thumbnails/<path:name>",
        views.artifact_thumbnail,
        name="thumbnail",
    ),
    path("<str:entity>/<str:project>/artifacts/", views.artifact_types, name="types"),
    path(
        "<str:entity>/<str:project>/artifacts/<str:type_name>/<str:collection>/",
        views.artifact_collection,
        name="collection",
    ),
    path(
        "<str:entity>/<str:project>/artifacts/<str:type_name>/<str:collection>/edit/",
        views.collection_edit,
        name="collection_edit",
    ),
    path(
        "<str:entity>/<str:project>/artifacts/<str:type_name>/<str:collection>/tags/add/",
        views.collection_tag_add,
        name="collection_tag_add",
    ),
    path(
        "<str:entity>/<str:project>/artifacts/<str:type_name>/<str:collection>/tags/remove/",
        views.collection_tag_remove,
        name="collection_tag_remove",
    ),
    path(VERSION, views.artifact_version, name="version"),
    path(VERSION + "description/", views.artifact_description, name="description"),
    path(VERSION + "tags/add/", views.artifact_tag_add, name="tag_add"),
    path(VERSION + "tags/remove/", views.artifact_tag_remove, name="tag_remove"),
    path(VERSION + "preview/<path:name>", views.artifact_preview, name="preview"),
    path(VERSION + "zip/", views.artifact_zip, name="zip"),
    path(VERSION + "diff/", views.artifact_diff, name="diff"),
    path(VERSION + "lineage/", views.artifact_lineage, name="lineage"),
]
