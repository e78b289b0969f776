"""What a training script does through the wandb client: create and update its run, upload the
run's files, send alerts. The API layer adapts the client's protocol to these functions."""

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from projects.access import may_enter
from projects.models import Project
from projects.services import ProjectError, project_create
from teams.access import Need, entity_permissions, viewer_refusal
from teams.models import Entity, Membership, Role
from teamsite.lib import objectstore

from .ingest import IngestError, load_json, storable
from .media.thumbnails import THUMBNAIL_SUFFIXES, thumbnail_prepare
from .models import Alert, Run, RunFile
from .names import run_name, run_numbers_reserve
from .services import RunsError, RunsForbidden, may_edit_run

METADATA_FILE = "wandb-metadata.json"
MAX_FILE_NAME_LENGTH = RunFile._meta.get_field("name").max_length


class UploadError(RunsError):
    """An uploaded body that does not match what was announced; nothing was kept."""


class UploadTooLarge(UploadError):
    """An uploaded body over its limit; nothing was kept."""


def not_writable_message(entity_name: str) -> str:
    # The same words whether or not the entity exists: no hint to outsiders.
    return (
        f"You cannot log to “{entity_name}”: it does not exist or you are not a member of it. "
        "Check the entity (wandb.init(entity=...)) and your API key."
    )


def writable_entity(actor, entity_name: str, *, action: str = "log runs") -> Entity:
    entity = Entity.objects.filter(name=(entity_name or "").lower()).first()
    permissions = entity_permissions(actor, entity) if entity is not None else set()
    if Need.WRITE in permissions:
        return entity
    if Need.VIEW in permissions:
        # A viewer knows the team exists: tell them why rather than "not a member".
        raise RunsForbidden(viewer_refusal(entity, action))
    raise RunsForbidden(not_writable_message(entity_name))


def attributed_author(actor, entity: Entity, username: str | None):
    """Who a run is attributed to. A service account names a human member of its team
    (WANDB_USERNAME); a person's key logs as that person only."""
    username = (username or "").strip()
    if not username or username == actor.username:
        return actor
    if not actor.is_service:
        raise RunsForbidden(
            f"WANDB_USERNAME is “{username}” but the API key belongs to {actor.username}. "
            "Only a team's service account key may log runs for another member; unset "
            "WANDB_USERNAME or use the service account's key."
        )
    membership = (
        Membership.objects.select_related("user")
        .filter(
            entity=entity,
            user__username=username,
            user__is_active=True,
            role__in=[Role.ADMIN, Role.MEMBER],
        )
        .first()
    )
    if membership is None:
        if Membership.objects.filter(
            entity=entity, user__username=username, role=Role.VIEWER
        ).exists():
            raise RunsForbidden(
                f"WANDB_USERNAME “{username}” is a viewer in {entity.name}; viewers cannot log "
                "runs, so no run is attributed to them."
            )
        raise RunsForbidden(
            f"WANDB_USERNAME “{username}” is not a member of {entity.name}. Runs logged with "
            f"this service account must name a member of the team."
        )
    return membership.user


def writable_project(actor, entity: Entity, project_name: str, *, create=True) -> Project:
    """The project, created on first use by a member who may write to the entity; a
    restricted one only for its admins and the members named on it."""
    project = Project.objects.filter(entity=entity, name=project_name).first()
    if project is not None:
        if project.is_restricted and not may_enter(
            actor, project, entity_permissions(actor, entity)
        ):
            # Worded as for a missing project the actor may not create: nothing confirms it.
            raise RunsForbidden(
                f"You cannot log to “{entity.name}/{project_name}”. Ask an admin of "
                f"{entity.name} for access, or log to another project."
            )
        return project
    if not create:
        raise RunsError(f"Project {entity.name}/{project_name} not found.")
    try:
        return project_create(entity=entity, name=project_name, creator=actor)
    except ProjectError as error:
        raise RunsError(str(error)) from error


def _check_author_may_enter(author, project: Project) -> None:
    """A service account named on a restricted project logs for the members who may enter it."""
    if not may_enter(author, project, entity_permissions(author, project.entity)):
        raise RunsForbidden(
            f"WANDB_USERNAME “{author.username}” is not named on {project.path}, a restricted "
            f"project: no run is attributed to them there. Ask an admin of "
            f"{project.entity.name} to add them, or log to another project."
        )


def unwrap_config(config: dict) -> dict:
    """The client sends {"lr": {"value": 0.1, "desc": null}}; the run keeps {"lr": 0.1}."""
    return {
        key: value["value"] if isinstance(value, dict) and "value" in value else value
        for key, value in config.items()
    }


def wrap_config(config: dict) -> dict:
    return {key: {"value": value, "desc": None} for key, value in config.items()}


def parse_json_object(text, what: str) -> dict | None:
    if text is None:
        return None
    try:
        value = load_json(text, what) if isinstance(text, str) else text
    except ValueError:
        raise RunsError(f"{what} is not valid JSON.") from None
    if not isinstance(value, dict):
        raise RunsError(f"{what} must be a JSON object.")
    return value


RUN_FIELDS = {
    # client field -> Run field
    "displayName": "name",
    "notes": "notes",
    "groupName": "group",
    "jobType": "job_type",
    "commit": "git_commit",
    "jobRepo": "git_remote",
    "host": "host",
    "jobProgram": "program",
}


def without_credentials(remote: str) -> str:
    """A git remote URL without a user or token in it (https://user:token@host/...)."""
    parts = urlsplit(remote)
    if parts.scheme in ("http", "https") and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return remote


def _run_changes(fields: dict) -> dict:
    changes = {}
    for client_name, field_name in RUN_FIELDS.items():
        value = fields.get(client_name)
        if value is not None:
            max_length = Run._meta.get_field(field_name).max_length
            if max_length and len(value) > max_length:
                raise RunsError(f"{client_name} is longer than {max_length} characters.")
            changes[field_name] = value
    if "git_remote" in changes:
        changes["git_remote"] = without_credentials(changes["git_remote"])
    if fields.get("notes") is None and fields.get("description") is not None:
        changes["notes"] = fields["description"]
    if fields.get("tags") is not None:
        changes["tags"] = list(dict.fromkeys(fields["tags"]))
    config = parse_json_object(fields.get("config"), "config")
    if config is not None:
        changes["config"] = storable(unwrap_config(config))
    summary = parse_json_object(fields.get("summaryMetrics"), "summaryMetrics")
    if summary is not None:
        changes["summary"] = storable(summary)
    return changes


def may_change_run(
    actor, run: Run, permissions: set[str] | None = None, *, username: str = ""
) -> bool:
    """The run's author, while they may write to its entity (not after leaving the team or
    becoming a viewer), and the admins of its entity change a run. A team's service account
    changes the runs it logged and the runs of the member its WANDB_USERNAME (`username`) names,
    while that member is still in the team. `permissions`: the actor's on the run's entity,
    when the caller has them already."""
    if actor.is_service and run.author_id is not None and run.author_id == actor.pk:
        return True  # a run it logged for no one (its account is deleted with its team seat)
    if permissions is None:
        permissions = entity_permissions(actor, run.project.entity)
    if not actor.is_service:
        return may_edit_run(actor, run, permissions)
    if Need.WRITE not in permissions or run.author_id is None:
        return False
    named = bool(username) and run.author is not None and run.author.username == username
    if run.logged_by_id != actor.pk and not named:
        return False
    return run.author_id in _human_member_ids(run.project)


def _human_member_ids(project: Project) -> set[int]:
    # Kept on the project object: a list of runs asks once, not once per run.
    if not hasattr(project, "_human_member_ids"):
        project._human_member_ids = set(
            Membership.objects.filter(
                entity_id=project.entity_id,
                role__in=[Role.ADMIN, Role.MEMBER],
                user__is_active=True,
            ).values_list("user_id", flat=True)
        )
    return project._human_member_ids


@transaction.atomic
def run_upsert(
    *, actor, entity_name: str, project_name: str, run_id: str, username: str | None, fields
):
    """Create or update a run (the client's upsertBucket). Returns (run, created)."""
    entity = writable_entity(actor, entity_name)
    author = attributed_author(actor, entity, username)
    if not run_id or len(run_id) > Run._meta.get_field("run_id").max_length:
        raise RunsError("A run id of 1 to 128 characters is needed.")
    project = writable_project(actor, entity, project_name)
    if author != actor and project.is_restricted:
        _check_author_may_enter(author, project)
    changes = _run_changes(fields)
    run = Run.with_trashed.select_for_update().filter(project=project, run_id=run_id).first()
    if run is not None and run.trashed_at is not None:
        # Its run id stays taken while it is in the trash (W&B answers the same).
        raise RunsError(
            f"Run {run_id} was previously created and deleted: it is in the trash of "
            f"{project.path}. Restore it from the trash or use a new run id."
        )
    if run is None:
        if not changes.get("name"):
            # A run logged without a name gets one, which the client then prints.
            changes["name"] = run_name(run_numbers_reserve(project)[0])
        now = timezone.now()
        run = Run.objects.create(
            project=project,
            run_id=run_id,
            author=author,
            logged_by=actor,
            heartbeat_at=now,
            **changes,
        )
        return run, True
    if not may_change_run(actor, run, username=username or ""):
        raise RunsForbidden(f"Run {run_id} in {project.path} belongs to someone else.")
    run_update_fields(run, changes)
    return run, False


def run_update_fields(run: Run, changes: dict) -> Run:
    for name, value in changes.items():
        setattr(run, name, value)
    if changes:
        run.save(update_fields=list(changes))
    return run


@transaction.atomic
def run_update_by_client(*, actor, run: Run, fields, username: str = "") -> Run:
    """`run.update()` from the public API: display name, notes, tags, config, summary."""
    if not may_change_run(actor, run, username=username):
        raise RunsForbidden("Only the run's author and admins can change it.")
    return run_update_fields(run, _run_changes(fields))


def check_file_name(name: str) -> str:
    parts = name.split("/")
    if (
        not name
        or len(name) > MAX_FILE_NAME_LENGTH
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise RunsError(f"“{name[:80]}” is not a valid file name.")
    return name


@transaction.atomic
def run_files_create(*, actor, run: Run, names: list[str], username: str = "") -> list[RunFile]:
    """Announce files the client is about to upload; returns their rows."""
    if not may_change_run(actor, run, username=username):
        raise RunsForbidden("Only the run's author and admins can upload its files.")
    for name in names:
        check_file_name(name)
    RunFile.objects.bulk_create(
        [RunFile(run=run, name=name) for name in dict.fromkeys(names)], ignore_conflicts=True
    )
    by_name = {file.name: file for file in RunFile.objects.filter(run=run, name__in=names)}
    return [by_name[name] for name in dict.fromkeys(names)]


class HashingReader:
    """Reads a stream, counting and hashing it, refusing more than `limit` bytes."""

    def __init__(self, stream, limit: int | None = None):
        self.stream = stream
        self.limit = limit
        self.md5 = hashlib.md5()
        self.size = 0

    def read(self, size=-1):
        data = self.stream.read(size)
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise UploadError("The upload is larger than allowed.")
        self.md5.update(data)
        return data

    # Read once, front to back, by any storage (S3's uploader asks both).
    closed = False

    def seekable(self):
        return False


def run_file_storage_name(run_file: RunFile) -> str:
    return f"runs/{run_file.run_id}/{run_file.name}"


def run_file_store(run_file: RunFile, stream) -> RunFile:
    """Keep a run file uploaded through the site (replacing an earlier upload of the same name)."""
    reader = HashingReader(stream)
    storage_name = default_storage.save(
        run_file_storage_name(run_file), File(reader, name=run_file.name)
    )
    return run_file_stored(run_file, storage_name, size=reader.size, md5=reader.md5.hexdigest())


def run_files_uploaded(run: Run, names: list[str]) -> list[RunFile]:
    """The client says these announced files reached the bucket (file_stream's "uploaded"):
    record what the bucket holds for each. On local disk the upload through the site recorded
    them already; a name the bucket has nothing for is left as it is."""
    if objectstore.direct_storage() is None or not names:
        return []
    files = {
        run_file_storage_name(file): file
        for file in RunFile.objects.filter(run=run, name__in=set(names))
    }
    found = objectstore.stored_objects(files)
    return [
        run_file_stored(files[name], name, size=stored.size, md5=stored.md5 or "")
        for name, stored in found.items()
    ]


def run_file_stored(run_file: RunFile, storage_name: str, *, size: int, md5: str) -> RunFile:
    """A run file's bytes are in storage under `storage_name`, by whichever way they came:
    record them, drop an earlier upload kept under another name, read what the site reads."""
    previous = RunFile.objects.filter(pk=run_file.pk).values_list("storage_name", flat=True)
    previous = previous.first()
    RunFile.objects.filter(pk=run_file.pk).update(
        storage_name=storage_name, size=size, md5=md5, uploaded_at=timezone.now()
    )
    if previous and previous != storage_name:
        default_storage.delete(previous)
    if run_file.name == METADATA_FILE:
        _read_metadata(run_file.run_id, storage_name)
    if run_file.name.lower().endswith(THUMBNAIL_SUFFIXES):
        pk = run_file.pk
        transaction.on_commit(lambda: run_file_thumbnail_prepare.enqueue(run_file_id=pk))
    run_file.refresh_from_db()
    return run_file


@task
def run_file_thumbnail_prepare(*, run_file_id: int) -> bool:
    run_file = RunFile.objects.filter(pk=run_file_id).first()
    if run_file is None or not run_file.storage_name:
        return False
    return thumbnail_prepare(run_file)


def _read_metadata(run_pk: int, storage_name: str) -> None:
    """wandb-metadata.json: command line, Python, host, hardware; kept on the run for its page."""
    try:
        with default_storage.open(storage_name) as handle:
            metadata = storable(load_json(handle.read(), METADATA_FILE))
    except (ValueError, IngestError):
        return
    if isinstance(metadata, dict):
        Run.objects.filter(pk=run_pk).update(metadata=metadata)


# Alerts


@transaction.atomic
def alert_create(
    *,
    actor,
    run: Run,
    title: str,
    text: str,
    level: str,
    wait: timedelta | None = None,
    username: str = "",
) -> Alert:
    """Store an alert the run's code raised; `notified` says whether it is to be delivered:
    not when the same alert was delivered within `wait` (the delivery is the alerts app's)."""
    if not may_change_run(actor, run, username=username):
        raise RunsForbidden("Only the run's author and admins can send its alerts.")
    if not title.strip():
        raise RunsError("An alert needs a title.")
    if level not in Alert.Level.values:
        raise RunsError(f"Unknown alert level “{level}”; use INFO, WARN or ERROR.")
    # Stored cut to the column's length, so compared with earlier alerts cut the same way.
    title = title[: Alert._meta.get_field("title").max_length]
    now = timezone.now()
    recently_notified = bool(wait) and (
        Alert.objects.filter(run=run, title=title, notified=True, created_at__gte=now - wait)
        .order_by()
        .exists()
    )
    return Alert.objects.create(
        run=run, title=title, text=text, level=level, created_at=now, notified=not recently_notified
    )
