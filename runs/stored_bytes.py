"""The stored bytes of runs deleted for good: their files and the thumbnails made of them are
removed from the storage by a task, once the deletion of the rows has committed (a rolled-back
deletion keeps them). Each name is a request to the storage, hence a task, in batches."""

from django.core.files.storage import default_storage
from django.db import transaction
from django.tasks import task

from .media.thumbnails import THUMBNAIL_SUFFIXES, thumbnail_name
from .models import Run, RunFile

# Names per task: a task's arguments are kept as one row until a worker takes it.
TASK_BATCH = 1000


def stored_names_of(runs) -> list[str]:
    """What the storage holds for these runs (a queryset)."""
    return stored_names_of_files(RunFile.objects.filter(run__in=runs))


def stored_names_of_files(files) -> list[str]:
    """What the storage holds for these run files (a queryset): each file's bytes and, for
    images, the name its thumbnail is kept under (made or not: deleting a missing name is
    harmless)."""
    rows = files.exclude(storage_name="").values_list("pk", "name", "md5", "storage_name")
    names = []
    for pk, name, md5, storage_name in rows.iterator():
        names.append(storage_name)
        if md5 and name.lower().endswith(THUMBNAIL_SUFFIXES):
            names.append(thumbnail_name(RunFile(pk=pk, md5=md5)))
    return names


def forget_after_commit(names: list[str]) -> None:
    """Remove these names from the storage once the current transaction commits."""
    for start in range(0, len(names), TASK_BATCH):
        batch = names[start : start + TASK_BATCH]
        transaction.on_commit(lambda batch=batch: stored_bytes_delete.enqueue(names=batch))


@transaction.atomic
def run_files_delete(files) -> int:
    """Delete run files (a queryset) with their stored bytes: the Django admin's delete."""
    forget_after_commit(stored_names_of_files(files))
    return files.delete()[0]


@task
def stored_bytes_delete(*, names: list[str]) -> int:
    for name in names:
        default_storage.delete(name)
    return len(names)


def forget_project_runs(project) -> None:
    """A project deleted for good (projects.services.PURGE_STEPS): its runs' stored bytes."""
    forget_after_commit(stored_names_of(Run.with_trashed.filter(project=project)))
