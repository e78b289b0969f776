from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from projects.access import may_enter
from projects.models import Project
from projects.services import ProjectError
from teams.access import Need, entity_permissions, may_change_own, viewer_refusal
from teams.models import AuditEvent
from teams.selectors import may_write
from teams.services import audit

from .models import Run, RunValue, Workspace

# Ids per UPDATE/DELETE statement: below SQLite's limit on query parameters.
CHUNK = 10_000
CLASHES_SHOWN = 10


class RunsError(ProjectError):
    """A bulk run action that is refused; nothing was changed."""


class RunsForbidden(RunsError):
    """The actor lacks the right to change some selected runs or to write to the target."""


class RunIdClash(RunsError):
    """The target project already has runs with some of the selected run ids."""


# What else moves with runs, registered by the apps that own it (artifacts register the
# versions the runs logged): step(source, target, runs) runs inside the move's transaction
# before the runs change project, and refuses the whole move by raising a RunsError.
MOVE_STEPS = []


def _runs_the_actor_may_change(actor, source: Project, runs) -> list[tuple[int, str]]:
    """(pk, run_id) of each selected run, once the actor may change them all."""
    if actor.is_service:
        raise RunsForbidden("Service accounts cannot move or delete runs.")
    permissions = entity_permissions(actor, source.entity)
    if Need.VIEW not in permissions or not may_enter(actor, source, permissions):
        raise RunsError("Project not found.")
    if Need.WRITE not in permissions:
        raise RunsForbidden(viewer_refusal(source.entity, "move or delete runs"))
    rows = list(runs.values_list("pk", "author_id", "run_id"))
    if not rows:
        raise RunsError("No runs were selected.")
    if Need.ADMIN not in permissions:
        others = sum(1 for _, author_id, _ in rows if author_id != actor.pk)
        if others:
            raise RunsForbidden(
                f"You can only change runs you logged: {others} of the {len(rows)} selected "
                f"runs belong to other people. Ask an admin of {source.entity.name}."
            )
    return [(pk, run_id) for pk, _, run_id in rows]


def _in_chunks(ids):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


@transaction.atomic
def runs_move(*, actor, source: Project, runs, target: Project) -> int:
    """Move runs, with everything hanging off them, to another project: all or none."""
    if target.pk == source.pk:
        raise RunsError("The runs are already in this project.")
    if not may_write(actor, target.entity) or (
        target.is_restricted
        and not may_enter(actor, target, entity_permissions(actor, target.entity))
    ):
        raise RunsForbidden("You cannot write to the target project.")
    # Locked, so that the target cannot go to the trash while the runs move in (project_delete
    # locks it too); a target in the trash takes no runs.
    if not Project.objects.select_for_update().filter(pk=target.pk).values_list("pk").first():
        raise RunsError(f"{target.path} is in the trash. Restore it first.")
    rows = _runs_the_actor_may_change(actor, source, runs.filter(project=source))
    if source.is_restricted and Need.ADMIN not in entity_permissions(actor, source.entity):
        raise RunsForbidden(
            f"{source.path} is restricted: only admins of {source.entity.name} move runs out of it."
        )
    clashes = []
    # The selected run ids themselves, looked up through the target's (project, run_id) index. A
    # subquery on the selected pks let PostgreSQL, with stale statistics, scan that whole index
    # once per target run: minutes for 10k runs.
    # Runs in the target's trash keep their ids taken.
    for chunk in _in_chunks([run_id for _, run_id in rows]):
        clashes += Run.with_trashed.filter(project=target, run_id__in=chunk).values_list(
            "run_id", "trashed_at"
        )
    if clashes:
        clashes.sort()
        shown = ", ".join(run_id for run_id, _ in clashes[:CLASHES_SHOWN])
        more = f" and {len(clashes) - CLASHES_SHOWN} more" if len(clashes) > CLASHES_SHOWN else ""
        trashed = any(trashed_at is not None for _, trashed_at in clashes)
        where = " (some in its trash)" if trashed else ""
        raise RunIdClash(
            f"{target.path} already has runs with these ids{where}: {shown}{more}. "
            "Nothing was moved."
        )
    # One UPDATE with the selection's own conditions, rather than statements of 10k ids. If the
    # selection changed since it was checked (a run logged meanwhile), roll everything back.
    movable = runs.filter(project=source)
    if Need.ADMIN not in entity_permissions(actor, source.entity):
        movable = movable.filter(author=actor)
    for step in MOVE_STEPS:
        step(source, target, movable)
    moved = movable.order_by().update(project=target)
    if moved != len(rows):
        raise RunsError("The selected runs changed while they were being moved. Try again.")
    audit(
        source.entity,
        actor,
        AuditEvent.Verb.RUNS_MOVED_OUT,
        source.path,
        count=moved,
        to=target.path,
    )
    audit(
        target.entity,
        actor,
        AuditEvent.Verb.RUNS_MOVED_IN,
        target.path,
        count=moved,
        source=source.path,
    )
    return moved


@transaction.atomic
def runs_delete(*, actor, project: Project, runs) -> int:
    """Move runs to the project's trash (runs.trash restores and purges them): their author or
    an admin; audited. Their history and files stay until the trash is purged."""
    ids = [pk for pk, _ in _runs_the_actor_may_change(actor, project, runs.filter(project=project))]
    now = timezone.now()
    trashed = 0
    for chunk in _in_chunks(ids):
        trashed += Run.objects.filter(pk__in=chunk).update(trashed_at=now, trashed_by=actor)
        # The index of values is what filters, sorts, counts and groups a project's runs:
        # a trashed run leaves it, and restoring builds its entries again.
        RunValue.objects.filter(run_id__in=chunk).delete()
    if trashed != len(ids):
        raise RunsError("The selected runs changed while they were being deleted. Try again.")
    audit(project.entity, actor, AuditEvent.Verb.RUNS_DELETED, project.path, count=trashed)
    return trashed


def may_edit_run(actor, run: Run, permissions: set[str]) -> bool:
    """A person changes a run they logged while they may write to its entity; its admins change
    any. `permissions`: the actor's on the run's entity."""
    return may_change_own(permissions, run.author_id, actor)


@transaction.atomic
def run_update(
    *,
    run: Run,
    actor,
    name: str | None = None,
    tags: list[str] | None = None,
    notes: str | None = None,
) -> Run:
    """Rename a run or change its tags and notes, from its page; what is not given stays."""
    if not may_edit_run(actor, run, entity_permissions(actor, run.project.entity)):
        raise RunsForbidden("Only the run's author and admins can edit it.")
    changes = {"name": name, "tags": tags, "notes": notes}
    changes = {field: value for field, value in changes.items() if value is not None}
    if "name" in changes:
        name = changes["name"].strip()
        max_length = Run._meta.get_field("name").max_length
        if not name or len(name) > max_length:
            raise RunsError(f"A run's name has 1 to {max_length} characters.")
        changes["name"] = name
    for field, value in changes.items():
        setattr(run, field, value)
    if changes:
        run.save(update_fields=list(changes))
    return run


MAX_PANELS = 30


@transaction.atomic
def workspace_change(*, user, project: Project, panels: list[str], action: str, key: str):
    """Add, remove or move a chart panel; `panels` is what the person sees now."""
    panels = list(panels)
    if action == "add":
        if not key or len(key) > 512:
            raise RunsError("Choose a metric to chart.")
        if key in panels:
            raise RunsError(f"{key} already has a panel.")
        if len(panels) >= MAX_PANELS:
            raise RunsError(f"A workspace holds at most {MAX_PANELS} panels.")
        panels.append(key)
    elif key not in panels:
        raise RunsError(f"No panel shows {key}.")
    elif action == "remove":
        panels.remove(key)
    elif action in ("up", "down"):
        index = panels.index(key)
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(panels):
            panels[index], panels[other] = panels[other], panels[index]
    else:
        raise RunsError("Unknown workspace action.")
    Workspace.objects.update_or_create(user=user, project=project, defaults={"panels": panels})
    return panels


# Runs that went quiet


def _quiet_runs(project: Project | None, now=None):
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    quiet = Run.objects.filter(state=Run.State.RUNNING, heartbeat_at__lt=cutoff)
    return quiet if project is None else quiet.filter(project=project)


def runs_mark_crashed(*, project: Project | None = None, now=None) -> int:
    """Running runs that sent nothing for RUN_HEARTBEAT_TIMEOUT seconds have crashed: one
    UPDATE, of one project's runs or of every project's."""
    return _quiet_runs(project, now).order_by().update(state=Run.State.CRASHED)


def project_check_quiet_runs(*, project: Project) -> int:
    """Before a project's runs are shown: mark its quiet runs crashed, so no cron job is needed.
    Usually nothing is quiet: one read on the (project, state) index, and a write only when
    there is something to mark. `manage.py mark_crashed_runs` does every project."""
    if not _quiet_runs(project).exists():
        return 0
    return runs_mark_crashed(project=project)


# The client's run.update_state(): the moves W&B allows, to requeue a run (pending) or to mark
# one that was lost failed. Every other move is refused.
STATE_MOVES = {
    Run.State.PENDING: {Run.State.RUNNING, Run.State.FAILED, Run.State.CRASHED},
    Run.State.FAILED: {Run.State.PENDING, Run.State.RUNNING},
}


@transaction.atomic
def run_state_set(*, run: Run, state: str) -> Run:
    """Move a run to `state`; the caller has checked that the actor may change the run."""
    locked = Run.objects.select_for_update().only("state", "finished_at").get(pk=run.pk)
    if locked.state not in STATE_MOVES.get(state, ()):
        raise RunsError(
            f"Cannot update the run's state: invalid state transition from {locked.state} "
            f"to {state}."
        )
    run.state = state
    fields = ["state"]
    if state == Run.State.FAILED and locked.finished_at is None:
        run.finished_at = timezone.now()
        fields.append("finished_at")
    run.save(update_fields=fields)
    return run


def runs_crash(*, run_pks) -> int:
    """Mark these runs crashed if they are still running (their sweep agent was lost): one
    UPDATE. Runs that already ended keep their state."""
    return (
        Run.objects.filter(pk__in=list(run_pks), state=Run.State.RUNNING)
        .order_by()
        .update(state=Run.State.CRASHED)
    )
