"""An artifact version's files: the download, and thumbnails of its images (the images in the
cells of tables the client keeps in a run_table artifact)."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from projects.access import get_project_for_user
from runs.media import thumbnail
from teamsite.lib.downloads import stored_file_download

from .models import Artifact, ArtifactFile


def _committed_file(request, entity, project, collection, version, name) -> ArtifactFile:
    project = get_project_for_user(request, entity, project)
    return get_object_or_404(
        ArtifactFile.objects.stored(),
        artifact__collection__project=project,
        artifact__collection__name=collection,
        artifact__version_index=version,
        artifact__state=Artifact.State.COMMITTED,
        name=name,
    )


def artifact_file(request, entity, project, collection, version, name):
    file = _committed_file(request, entity, project, collection, version, name)
    response = stored_file_download(file.storage_name, file.name)
    if response is None:
        raise Http404("This file is not stored.")
    return response


def artifact_thumbnail(request, entity, project, collection, version, name):
    """An image of an artifact version at most 512 px wide, made on the first request; 404 for
    anything that is not an image."""
    file = _committed_file(request, entity, project, collection, version, name)
    data = thumbnail(file)
    if data is None:
        raise Http404("This file is not an image.")
    response = HttpResponse(data, content_type="image/webp")
    response["Cache-Control"] = "private, max-age=3600"
    return response
