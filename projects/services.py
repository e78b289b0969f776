from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from teams.access import Need, entity_permissions
from teams.models import AuditEvent, Entity
from teams.selectors import may_write
from teams.services import TeamError, audit, audit_event, entity_set_privacy

from .access import ProjectNeed, project_rights
from .models import RESERVED_PROJECT_NAMES, Project, ProjectMember, project_name_validator


class ProjectError(TeamError):
    """A project request that breaks a rule; its message is shown as it is."""


def validate_project_name(entity: Entity, name: str) -> str:
    project_name_validator(name)
    if name.lower() in RESERVED_PROJECT_NAMES:
        raise ValidationError(f"“{name}” is reserved. Choose another name.")
    taken = Project.with_trashed.filter(entity=entity, name__iexact=name).first()
    if taken is not None and taken.trashed_at is not None:
        # Its name stays taken until it is purged, so that restoring it cannot clash.
        raise ValidationError(
            f"A project named {taken.name} is in the trash; restore it or delete it for good first."
        )
    if taken is not None:
        raise ValidationError(f"{entity.name} already has a project named “{name}”.")
    return name


def _visibility_for(entity: Entity, visibility: str) -> str:
    # A private team's projects are members-only, whatever was asked. Read under the entity's
    # row lock, so that a project saved while privacy is turned on cannot stay public.
    entity = Entity.objects.select_for_update().get(pk=entity.pk)
    return Project.Visibility.TEAM if entity.is_private else visibility


@transaction.atomic
def team_privacy_set(*, team: Entity, is_private: bool, actor=None) -> Entity:
    """Turn a team's privacy on or off.

    On: every project of the team becomes team-only, stored on the project and audited per
    project. Off: nothing is published; projects stay team-only until someone makes one public.
    """
    team = entity_set_privacy(entity=team, is_private=is_private, actor=actor)
    if team.is_private:
        public = Project.objects.filter(entity=team, visibility=Project.Visibility.PUBLIC)
        names = sorted(public.values_list("name", flat=True))
        public.update(visibility=Project.Visibility.TEAM)
        AuditEvent.objects.bulk_create(
            audit_event(
                team,
                actor,
                AuditEvent.Verb.PROJECT_UPDATED,
                name,
                visibility=Project.Visibility.TEAM,
                because="the team was made private",
            )
            for name in names
        )
    return team


RESTRICTED_NOT_PUBLIC = "A restricted project cannot be public: its named members see it."


@transaction.atomic
def project_access_set(
    *, project: Project, actor, restricted: bool, memberships=()
) -> tuple[list[str], list[str]]:
    """Who may see the project beyond the team's admins: with `restricted`, only the team's
    members in `memberships` (service accounts too, only when named). The list is kept as
    given either way, so it can be prepared before restricting. Restricting makes the project
    and its public reports team-only. Only the entity's admins change it. Returns the usernames
    named and unnamed."""
    entity = project.entity
    if Need.ADMIN not in entity_permissions(actor, entity):
        raise ProjectError(f"Only admins of {entity.name} change who may see its projects.")
    wanted = {membership.pk: membership for membership in memberships}
    if not entity.is_team and (restricted or wanted):
        raise ProjectError("Only a team's projects can be restricted to named members.")
    if any(membership.entity_id != entity.pk for membership in wanted.values()):
        raise ProjectError(f"Name members of {entity.name} only.", field="members")
    stored = Project.objects.select_for_update().get(pk=project.pk)
    named = {
        row.membership_id: row
        for row in ProjectMember.objects.filter(project=project).select_related("membership__user")
    }
    added = [wanted[pk] for pk in wanted.keys() - named.keys()]
    removed = [named[pk] for pk in named.keys() - wanted.keys()]
    ProjectMember.objects.filter(pk__in=[row.pk for row in removed]).delete()
    ProjectMember.objects.bulk_create(
        ProjectMember(project=project, membership=membership, added_by=actor)
        for membership in added
    )
    switched = stored.is_restricted != restricted
    changes = _restricted_is_team_only(stored) if restricted else {}
    project.is_restricted, project.visibility = restricted, stored.visibility
    stored.is_restricted = restricted
    stored.save(update_fields=["is_restricted", "visibility"])
    added_names = sorted(membership.user.username for membership in added)
    removed_names = sorted(row.membership.user.username for row in removed)
    if switched or changes or added_names or removed_names:
        audit(
            entity,
            actor,
            AuditEvent.Verb.PROJECT_ACCESS_CHANGED,
            project.name,
            restricted=restricted,
            added=added_names,
            removed=removed_names,
            **changes,
        )
    return added_names, removed_names


def _restricted_is_team_only(project: Project) -> dict:
    """A restricted project and its reports are never public: what was public becomes
    team-only (the reports live in a later app: the reverse relation names their model)."""
    changes = {}
    if project.visibility == Project.Visibility.PUBLIC:
        project.visibility = changes["visibility"] = Project.Visibility.TEAM
    Report = Project._meta.get_field("reports").related_model
    reports = Report.objects.filter(project=project, visibility=Report.Visibility.PUBLIC)
    count = reports.update(visibility=Report.Visibility.TEAM)
    if count:
        changes["reports_made_team_only"] = count
    return changes


@transaction.atomic
def project_create(
    *, entity: Entity, name: str, creator, description: str = "", visibility: str = "team"
) -> Project:
    if not may_write(creator, entity):
        raise ProjectError(f"You cannot create projects in {entity.name}.")
    try:
        validate_project_name(entity, name)
    except ValidationError as error:
        raise ProjectError(" ".join(error.messages)) from error
    project = Project.objects.create(
        entity=entity,
        name=name,
        description=description,
        visibility=_visibility_for(entity, visibility),
        created_by=creator,
    )
    audit(entity, creator, AuditEvent.Verb.PROJECT_CREATED, project.name)
    return project


def project_upsert(
    *, entity: Entity, name: str, creator, description: str = ""
) -> tuple[Project, bool]:
    """The entity's project of that name (any case), created first if there is none: the wandb
    client's `Api().create_project`. Returns the project and whether it was created."""
    if not may_write(creator, entity):
        raise ProjectError(f"You cannot create projects in {entity.name}.")
    existing = Project.objects.filter(entity=entity, name__iexact=name).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return project_create(
                entity=entity, name=name, creator=creator, description=description
            ), True
    except IntegrityError:
        # Created by a request that ran at the same time.
        existing = Project.objects.filter(entity=entity, name__iexact=name).first()
        if existing is None:
            raise
        return existing, False


@transaction.atomic
def project_update(*, project: Project, actor, description: str, visibility: str) -> Project:
    changes = {}
    visibility = _visibility_for(project.entity, visibility)
    # Compare with the stored row: a ModelForm's is_valid() has already copied the new values
    # onto `project`, so comparing with it would never see a change.
    # with_trashed: the Django admin edits projects in the trash too.
    stored = Project.with_trashed.select_for_update().get(pk=project.pk)
    if stored.is_restricted and visibility == Project.Visibility.PUBLIC:
        raise ProjectError(RESTRICTED_NOT_PUBLIC, field="visibility")
    if stored.description != description:
        changes["description"] = True
    if stored.visibility != visibility:
        changes["visibility"] = visibility
    project.description, project.visibility = description, visibility
    project.save(update_fields=["description", "visibility"])
    if changes:
        audit(project.entity, actor, AuditEvent.Verb.PROJECT_UPDATED, project.name, **changes)
    return project


# The trash: a deleted project (and its runs) is kept TRASH_RETENTION_DAYS, restorable, then
# purged by the periodic job "purge_trashed_projects".


def _run_model():
    # Runs live in a later app; the reverse relation names their model without importing it.
    return Project._meta.get_field("runs").related_model


def purge_date(project: Project) -> datetime:
    """When the periodic job deletes a project in the trash for good."""
    return project.trashed_at + timedelta(days=settings.TRASH_RETENTION_DAYS)


def may_restore(actor, project: Project) -> bool:
    """Who may restore a project, by the rule for deleting one: its entity's admins, and its
    creator while they may write there."""
    return ProjectNeed.ADMIN in project_rights(
        actor, project, entity_permissions(actor, project.entity)
    )


def _locked_in_trash(project: Project) -> Project:
    locked = (
        Project.with_trashed.select_for_update(of=("self",))
        .select_related("entity")
        .filter(pk=project.pk, trashed_at__isnull=False)
        .first()
    )
    if locked is None:
        raise ProjectError(f"{project.path} is not in the trash.")
    return locked


@transaction.atomic
def project_delete(*, project: Project, actor, confirm_name: str) -> Project:
    """Move the project to the trash. Its live runs go with it, marked on each run, so that
    every run query of the site leaves them out without a join to the project."""
    if confirm_name != project.name:
        raise ProjectError(f"Type the project's name, {project.name}, to move it to the trash.")
    locked = Project.objects.select_for_update().filter(pk=project.pk).first()
    if locked is None:
        raise ProjectError(f"{project.path} is already in the trash.")
    now = timezone.now()
    run_count = (
        _run_model()
        .objects.filter(project=project)
        .update(trashed_at=now, trashed_by=actor, trashed_with_project=True)
    )
    Project.with_trashed.filter(pk=project.pk).update(trashed_at=now, trashed_by=actor)
    project.trashed_at, project.trashed_by = now, actor
    audit(project.entity, actor, AuditEvent.Verb.PROJECT_DELETED, project.name, runs=run_count)
    return project


@transaction.atomic
def project_restore(*, project: Project, actor) -> Project:
    """Bring a project back from the trash with the runs that went there with it; runs put in
    the trash on their own before stay there."""
    project = _locked_in_trash(project)
    if not may_restore(actor, project):
        raise ProjectError(f"Only admins of {project.entity.name} and its creator can restore it.")
    run_count = (
        _run_model()
        .with_trashed.filter(project=project, trashed_with_project=True)
        .update(trashed_at=None, trashed_by=None, trashed_with_project=False)
    )
    Project.with_trashed.filter(pk=project.pk).update(trashed_at=None, trashed_by=None)
    project.trashed_at = project.trashed_by = None
    audit(project.entity, actor, AuditEvent.Verb.PROJECT_RESTORED, project.name, runs=run_count)
    return project


# What else goes when a project is deleted for good, registered by the apps that own it (runs
# and artifacts free their stored bytes): step(project) runs inside the deletion's transaction,
# before the rows go.
PURGE_STEPS = []


@transaction.atomic
def project_purge(*, project: Project, actor) -> None:
    """Delete a project (in the trash or not) for good, audited: the end of the trash, and
    the Django admin's delete (the site's operators)."""
    run_count = _run_model().with_trashed.filter(project=project).count()
    audit(project.entity, actor, AuditEvent.Verb.PROJECT_PURGED, project.name, runs=run_count)
    for step in PURGE_STEPS:
        step(project)
    # The cascade (runs, their points, file and artifact rows) follows the base managers, which
    # include rows in the trash.
    project.delete()


@transaction.atomic
def project_delete_forever(*, project: Project, actor, confirm_name: str) -> None:
    """An entity admin deletes a project in the trash for good, before it expires."""
    project = _locked_in_trash(project)
    if Need.ADMIN not in entity_permissions(actor, project.entity):
        raise ProjectError(f"Only admins of {project.entity.name} can delete projects for good.")
    if confirm_name != project.name:
        raise ProjectError(f"Type the project's name, {project.name}, to delete it for good.")
    project_purge(project=project, actor=actor)


def projects_purge_expired(*, now: datetime | None = None) -> int:
    """Delete for good the projects in the trash for longer than TRASH_RETENTION_DAYS: the
    periodic job "purge_trashed_projects". One transaction per project, so that a failure
    keeps what was done; returns how many were purged."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.TRASH_RETENTION_DAYS)
    purged = 0
    for pk in Project.with_trashed.filter(trashed_at__lt=cutoff).values_list("pk", flat=True):
        with transaction.atomic():
            # Restored (or purged) since it was listed: left alone.
            project = (
                Project.with_trashed.select_for_update(of=("self",))
                .select_related("entity")
                .filter(pk=pk, trashed_at__lt=cutoff)
                .first()
            )
            if project is not None:
                project_purge(project=project, actor=None)
                purged += 1
    return purged
