from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from teams.access import Need, entity_permissions
from teams.models import AuditEvent, Entity
from teams.selectors import may_write
from teams.services import TeamError, audit, audit_event, entity_set_privacy

from .models import RESERVED_PROJECT_NAMES, Project, ProjectMember, project_name_validator


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
    stored = Project.objects.select_for_update().get(pk=project.pk)
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


@transaction.atomic
def project_delete(*, project: Project, actor, confirm_name: str) -> None:
    if confirm_name != project.name:
        raise ProjectError(f"Type the project's name, {project.name}, to delete it.")
    run_count = project.runs.count()
    audit(project.entity, actor, AuditEvent.Verb.PROJECT_DELETED, project.name, runs=run_count)
    project.delete()
