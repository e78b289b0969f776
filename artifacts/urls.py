from django.urls import path

from . import views

app_name = "artifacts"

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
]
