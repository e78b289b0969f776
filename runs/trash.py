"""A project's run trash: runs deleted on their own (services.runs_delete) stay restorable for
TRASH_RETENTION_DAYS, then the periodic job purges them with everything logged to them. Runs
put in the trash with their project (`trashed_with_project`) belong to the project's trash:
they are not listed, restored or purged here."""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from projects.models import Project
from teams.access import Need, entity_permissions, may_change_own, viewer_refusal
from teams.models import AuditEvent
from teams.services import audit

from .models import Run
from .services import RunsError, RunsForbidden, _in_chunks
from .stored_bytes import forget_after_commit, stored_names_of
from .values import BATCH, index_runs


def in_trash(project: Project):
    """The runs in the project's own run trash, newest first."""
    return Run.with_trashed.filter(
        project=project, trashed_at__isnull=False, trashed_with_project=False
    ).order_by("-trashed_at", "-id")


def purge_date(run: Run):
    """When the periodic job purges a run in the trash."""
    return run.trashed_at + timedelta(days=settings.TRASH_RETENTION_DAYS)


def may_restore(actor, run: Run, permissions: set[str]) -> bool:
    """Its author while they may write to the entity, or an admin of the entity."""
    return not actor.is_service and may_change_own(permissions, run.author_id, actor)


def _selected(actor, project: Project, runs, *, need_admin: bool) -> list[int]:
    """The pks of the selected runs in the project's trash, once the actor may act on all."""
    if not actor.is_authenticated or actor.is_service:
        raise RunsForbidden("Service accounts cannot restore or delete runs.")
    permissions = entity_permissions(actor, project.entity)
    if Need.VIEW not in permissions:
        raise RunsError("Project not found.")
    if Need.WRITE not in permissions:
        raise RunsForbidden(viewer_refusal(project.entity, "restore or delete runs"))
    if need_admin and Need.ADMIN not in permissions:
        raise RunsForbidden(f"Only admins of {project.entity.name} can delete runs for good.")
    rows = list(
        runs.filter(project=project, trashed_at__isnull=False, trashed_with_project=False)
        .select_for_update()
        .values_list("pk", "author_id")
    )
    if not rows:
        raise RunsError("No runs in the trash were selected.")
    refused = sum(1 for _, author_id in rows if not may_change_own(permissions, author_id, actor))
    if refused:
        raise RunsForbidden(
            f"You can only restore runs you logged, while you may write to "
            f"{project.entity.name}: {refused} of the {len(rows)} selected runs are not yours. "
            f"Ask an admin of {project.entity.name}."
        )
    return [pk for pk, _ in rows]


@transaction.atomic
def runs_restore(*, actor, project: Project, runs) -> int:
    """Bring runs back from the project's trash: all of them or, if any is refused, none.
    Their run ids stayed taken while they were in the trash, so nothing can clash."""
    ids = _selected(actor, project, runs, need_admin=False)
    restored = 0
    for chunk in _in_chunks(ids):
        restored += Run.with_trashed.filter(pk__in=chunk).update(trashed_at=None, trashed_by=None)
    # Their entries in the index of values, removed when they were trashed.
    for start in range(0, len(ids), BATCH):
        index_runs(
            Run.objects.filter(pk__in=ids[start : start + BATCH]).only(
                "pk", "project_id", "config", "summary"
            )
        )
    audit(project.entity, actor, AuditEvent.Verb.RUNS_RESTORED, project.path, count=restored)
    return restored


def _purge(ids: list[int], *, trashed_only: bool = True) -> int:
    """Delete these runs with their points, files, keys and everything else on them; the
    stored bytes of their files go once the deletion commits."""
    purged = 0
    for chunk in _in_chunks(ids):
        runs = Run.with_trashed.filter(pk__in=chunk)
        if trashed_only:
            runs = runs.filter(trashed_at__isnull=False)
        forget_after_commit(stored_names_of(runs))
        purged += runs.delete()[1].get(Run._meta.label, 0)
    return purged


@transaction.atomic
def runs_delete_forever(*, actor, project: Project, runs) -> int:
    """An admin empties part of the trash before the periodic job would: cannot be undone."""
    purged = _purge(_selected(actor, project, runs, need_admin=True))
    audit(project.entity, actor, AuditEvent.Verb.RUNS_PURGED, project.path, count=purged)
    return purged


def runs_purge_expired(*, now=None) -> int:
    """The periodic job: delete the runs that have been in their project's trash longer than
    TRASH_RETENTION_DAYS, one project per transaction, audited per project without an actor.
    Runs trashed with their project are left to the project's purge."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.TRASH_RETENTION_DAYS)
    expired = Run.with_trashed.filter(trashed_at__lt=cutoff, trashed_with_project=False)
    by_project = defaultdict(list)
    for pk, project_id in expired.values_list("pk", "project_id"):
        by_project[project_id].append(pk)
    total = 0
    projects = Project.with_trashed.select_related("entity").filter(pk__in=list(by_project))
    for project in projects:
        with transaction.atomic():
            # Rechecked row by row: a run restored since it was listed stays.
            still = []
            for chunk in _in_chunks(by_project[project.pk]):
                still += (
                    expired.filter(pk__in=chunk).select_for_update().values_list("pk", flat=True)
                )
            purged = _purge(still)
            if purged:
                audit(project.entity, None, AuditEvent.Verb.RUNS_PURGED, project.path, count=purged)
            total += purged
    return total


def runs_purge_by_operator(*, actor, runs) -> int:
    """The Django admin's delete: for good, in the trash or not, audited per project."""
    by_project = defaultdict(list)
    for pk, project_id in runs.values_list("pk", "project_id"):
        by_project[project_id].append(pk)
    total = 0
    with transaction.atomic():
        for project in Project.with_trashed.select_related("entity").filter(
            pk__in=list(by_project)
        ):
            purged = _purge(by_project[project.pk], trashed_only=False)
            audit(project.entity, actor, AuditEvent.Verb.RUNS_PURGED, project.path, count=purged)
            total += purged
    return total
