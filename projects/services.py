from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from teams.models import AuditEvent, Entity
from teams.selectors import may_write
from teams.services import TeamError, audit, audit_event, entity_set_privacy

from .models import RESERVED_PROJECT_NAMES, Project, project_name_validator


class ProjectError(TeamError):
    """A project request that breaks a rule; its message is shown as it is."""


def validate_project_name(entity: Entity, name: str) -> str:
    project_name_validator(name)
    if name.lower() in RESERVED_PROJECT_NAMES:
        raise ValidationError(f"“{name}” is reserved. Choose another name.")
    if Project.objects.filter(entity=entity, name__iexact=name).exists():
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
    stored = Project.objects.select_for_update().get(pk=project.pk)
    if stored.description != description:
        changes["description"] = True
    if stored.visibility != visibility:
        changes["visibility"] = visibility
    project.description, project.visibility = description, visibility
    project.save(update_fields=["description", "visibility"])
    if changes:
        audit(project.entity, actor, AuditEvent.Verb.PROJECT_UPDATED, project.name, **changes)
    return project


@transaction.atomic
def project_delete(*, project: Project, actor, confirm_name: str) -> None:
    if confirm_name != project.name:
        raise ProjectError(f"Type the project's name, {project.name}, to delete it.")
    run_count = project.runs.count()
    audit(project.entity, actor, AuditEvent.Verb.PROJECT_DELETED, project.name, runs=run_count)
    project.delete()
