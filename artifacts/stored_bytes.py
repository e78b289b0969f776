"""A project deleted for good (projects.services.PURGE_STEPS) takes its artifact versions'
stored bytes with it, once the deletion commits: their manifests and thumbnails always, and
the files no version of another project still refers to (files are shared by digest across
an entity's projects, so the task checks that when it runs)."""

from django.db import transaction

from runs.media.thumbnails import THUMBNAIL_SUFFIXES, thumbnail_name
from runs.stored_bytes import forget_after_commit

from .models import Artifact, ArtifactFile
from .services import stored_files_delete

# Shared files per task: the task looks each batch up in one query.
BLOB_BATCH = 500


def forget_project_artifacts(project) -> None:
    versions = Artifact.objects.filter(collection__project=project)
    manifests = list(
        versions.exclude(manifest_storage_name="").values_list("manifest_storage_name", flat=True)
    )
    blobs, thumbnails = set(), []
    files = ArtifactFile.objects.filter(artifact__in=versions).values_list(
        "pk", "name", "md5", "storage_name"
    )
    for pk, name, md5, storage_name in files.iterator():
        blobs.add(storage_name)
        if md5 and name.lower().endswith(THUMBNAIL_SUFFIXES):
            thumbnails.append(thumbnail_name(ArtifactFile(pk=pk, md5=md5)))
    forget_after_commit([*manifests, *thumbnails])
    blobs = sorted(blobs)
    for start in range(0, len(blobs), BLOB_BATCH):
        batch = blobs[start : start + BLOB_BATCH]
        transaction.on_commit(
            lambda batch=batch: stored_files_delete.enqueue(blobs=batch, manifests=[])
        )
