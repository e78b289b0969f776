"""Artifacts (models, datasets) as the wandb client logs and uses them: a version is created,
its files and manifest uploaded, then committed, which moves its aliases to it."""

import base64
import hashlib
import json
import re

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max
from django.tasks import task
from django.utils import timezone

from projects.models import Project
from runs.ingest import MAX_STEP, load_json
from runs.models import Run
from runs.services import RunsError
from runs.tracking import HashingReader, UploadError, UploadTooLarge, check_file_name
from teamsite.lib import objectstore

from .models import Artifact, ArtifactAlias, ArtifactCollection, ArtifactFile, ArtifactTag

LATEST = "latest"
VERSION_ALIAS = re.compile(r"\Av(\d+)\Z")
NAME = re.compile(r"\A[\w.-]{1,128}\Z")
MANIFEST_NAME = "wandb_manifest.json"
# The client's tag rule: words of letters, digits, '-' and '_', spaces between them.
TAG = re.compile(r"\A[-\w]+( +[-\w]+)*\Z")
MAX_TAG_LENGTH = 128


class ArtifactError(RunsError):
    pass


def _check_alias(alias: str) -> str:
    if not NAME.match(alias or "") or VERSION_ALIAS.match(alias):
        raise ArtifactError(f"“{alias}” is not a valid alias.")
    return alias


def check_tags(tags) -> list[str]:
    """Tag names, each once, in the order given; any invalid one refuses them all."""
    tags = list(dict.fromkeys(tags or []))
    invalid = [
        tag
        for tag in tags
        if not isinstance(tag, str) or len(tag) > MAX_TAG_LENGTH or not TAG.match(tag)
    ]
    if invalid:
        raise ArtifactError(
            f"Invalid tag(s): {', '.join(repr(tag) for tag in invalid)}. A tag is words of "
            f"letters, digits, '-' and '_' with spaces between them, at most "
            f"{MAX_TAG_LENGTH} characters."
        )
    return tags


def storage_region_known(region: str | None) -> bool:
    """No region is the default one; a named one must be configured (ARTIFACT_STORAGE_REGIONS)."""
    return not region or region in settings.ARTIFACT_STORAGE_REGIONS


def check_storage_region(region: str | None) -> None:
    if not storage_region_known(region):
        known = ", ".join(settings.ARTIFACT_STORAGE_REGIONS)
        raise ArtifactError(f"invalid storageRegion: {region}; this server has: {known}.")


def _add_tags(artifact: Artifact, tags: list[str]) -> None:
    ArtifactTag.objects.bulk_create(
        [ArtifactTag(artifact=artifact, name=tag) for tag in tags], ignore_conflicts=True
    )


@transaction.atomic
def artifact_create(
    *,
    project: Project,
    run: Run | None,
    type_name: str,
    name: str,
    digest: str,
    description: str = "",
    metadata: dict | None = None,
    aliases: list[str] = (),
    history_step: int | None = None,
    deduplicate: bool = True,
    tags: list[str] = (),
    storage_region: str | None = None,
    distributed_id: str = "",
) -> Artifact:
    """A new pending version, or the committed version that has the same digest; with a
    `distributed_id`, the pending version its other writers opened, if there is one."""
    check_storage_region(storage_region)
    if len(distributed_id or "") > 128:
        raise ArtifactError("A distributed id has at most 128 characters.")
    tags = check_tags(tags)
    if not NAME.match(name or ""):
        raise ArtifactError(
            f"“{name}” is not a valid artifact name: letters, digits, '-', '_' and '.'."
        )
    if not type_name or len(type_name) > 255:
        raise ArtifactError("An artifact needs a type.")
    aliases = [_check_alias(alias) for alias in dict.fromkeys([*aliases, LATEST])]
    collection, _ = ArtifactCollection.objects.get_or_create(
        project=project, name=name, defaults={"type": type_name, "description": description or None}
    )
    # One version number at a time per collection.
    collection = ArtifactCollection.objects.select_for_update().get(pk=collection.pk)
    if collection.is_portfolio:
        raise ArtifactError(
            f"{name} is a registered model; link versions to it instead of logging them."
        )
    if collection.type != type_name:
        raise ArtifactError(
            f"{name} is a “{collection.type}” artifact; it cannot take a version of type "
            f"“{type_name}”."
        )
    if distributed_id:
        shared = _distributed_version(collection, distributed_id, run, aliases, tags)
        if shared is not None:
            return shared
    elif deduplicate:
        same = (
            collection.versions.filter(digest=digest, state=Artifact.State.COMMITTED)
            .order_by("-version_index")
            .first()
        )
        if same is not None:
            _move_aliases(same, aliases)
            if run is not None and same.created_by_run_id != run.pk:
                same.logged_by.add(run)
            _add_tags(same, tags)
            return same
    last = collection.versions.aggregate(last=Max("version_index"))["last"]
    artifact = Artifact.objects.create(
        collection=collection,
        version_index=0 if last is None else last + 1,
        digest=digest,
        description=description or "",
        metadata=metadata or {},
        history_step=history_step,
        created_by_run=run,
        requested_aliases=aliases,
        distributed_id=distributed_id or "",
    )
    _add_tags(artifact, tags)
    return artifact


def _distributed_version(collection, distributed_id, run, aliases, tags) -> Artifact | None:
    """The pending version the other writers of `distributed_id` opened, now also this run's."""
    shared = (
        collection.versions.filter(distributed_id=distributed_id, state=Artifact.State.PENDING)
        .order_by("-version_index")
        .first()
    )
    if shared is None:
        return None
    if run is not None and shared.created_by_run_id != run.pk:
        shared.logged_by.add(run)
    wanted = list(dict.fromkeys([*shared.requested_aliases, *aliases]))
    if wanted != shared.requested_aliases:
        Artifact.objects.filter(pk=shared.pk).update(requested_aliases=wanted)
        shared.requested_aliases = wanted
    _add_tags(shared, tags)
    return shared


def _move_aliases(artifact: Artifact, aliases) -> None:
    for alias in aliases:
        ArtifactAlias.objects.update_or_create(
            collection_id=artifact.collection_id, alias=alias, defaults={"artifact": artifact}
        )


def _hex_md5(b64_md5: str) -> str:
    try:
        raw = base64.b64decode(b64_md5, validate=True)
    except ValueError:
        raise ArtifactError(f"“{b64_md5}” is not a base64 MD5 digest.") from None
    if len(raw) != 16:
        raise ArtifactError(f"“{b64_md5}” is not a base64 MD5 digest.")
    return raw.hex()


# The wandb client expects a stored file's path under "wandb_artifacts/". Files stored before
# under "artifacts/" keep their names and are still found by their content.
BLOB_PREFIXES = ("wandb_artifacts", "artifacts")


def blob_names(project: Project, hex_md5: str) -> list[str]:
    """Where bytes with this MD5 are stored, the name for new ones first: content-addressed
    within the entity, so a repeated file is stored once."""
    return [f"{prefix}/{project.entity_id}/{hex_md5[:2]}/{hex_md5}" for prefix in BLOB_PREFIXES]


def check_pending(artifact: Artifact) -> None:
    """A committed version is immutable: its manifest and files never change again."""
    if artifact.state != Artifact.State.PENDING:
        raise ArtifactError(f"{artifact} is committed; its manifest and files cannot change.")


def _stored_copies(project: Project, md5s) -> dict[str, tuple[str, int]]:
    """For each base64 MD5 whose bytes the entity holds already: (their stored name, size)."""
    candidates = {md5: blob_names(project, _hex_md5(md5)) for md5 in md5s}
    sizes = dict(
        ArtifactFile.objects.filter(
            storage_name__in=[blob for blobs in candidates.values() for blob in blobs],
            size__isnull=False,
        ).values_list("storage_name", "size")
    )
    stored = {}
    for md5, blobs in candidates.items():
        blob = next((blob for blob in blobs if blob in sizes), None)
        if blob is not None:
            stored[md5] = (blob, sizes[blob])
    return stored


@transaction.atomic
def artifact_files_create(
    *, artifact: Artifact, files: list[tuple[str, str]]
) -> list[tuple[ArtifactFile, bool]]:
    """Announce (name, base64 md5) files; returns each row and whether it needs uploading."""
    check_pending(artifact)
    project = artifact.collection.project
    for name, md5 in files:
        check_file_name(name)
        _hex_md5(md5)
    stored = _stored_copies(project, {md5 for _, md5 in files})
    result = []
    for name, md5 in dict(files).items():
        blob, size = stored.get(md5) or (blob_names(project, _hex_md5(md5))[0], None)
        artifact_file, _ = ArtifactFile.objects.update_or_create(
            artifact=artifact,
            name=name,
            defaults={"md5": md5, "storage_name": blob, "size": size},
        )
        result.append((artifact_file, md5 not in stored))
    return result


def artifact_file_store(artifact_file: ArtifactFile, stream) -> ArtifactFile:
    """Keep an uploaded artifact file once its MD5 matches the announced one."""
    check_pending(artifact_file.artifact)
    reader = HashingReader(stream)
    blob = artifact_file.storage_name
    if default_storage.exists(blob):
        while reader.read(1 << 20):
            pass
        stored = blob
    else:
        stored = default_storage.save(blob, File(reader, name=blob))
    if base64.b64encode(reader.md5.digest()).decode() != artifact_file.md5:
        if (
            stored != blob
            or not ArtifactFile.objects.filter(storage_name=blob, size__isnull=False).exists()
        ):
            default_storage.delete(stored)
        raise UploadError(f"{artifact_file.name}: the uploaded bytes do not match their MD5.")
    _blob_stored(blob, reader.size)
    artifact_file.size = reader.size
    return artifact_file


def _blob_stored(blob: str, size: int) -> None:
    """Bytes are in storage under `blob`, by whichever way they came: every file that names
    them is uploaded now."""
    ArtifactFile.objects.filter(storage_name=blob).update(size=size)


def _uploaded_to_bucket(artifact: Artifact) -> dict[str, int]:
    """The client puts a version's files straight into the bucket, unseen by the site: before
    the commit, check what the bucket holds for each file still waiting (present, and its MD5 the
    announced one). Returns {stored name: size}; raises, naming the files, if any is missing or
    wrong. On local disk every upload went through the site, which checked it."""
    if objectstore.direct_storage() is None:
        return {}
    waiting = list(
        artifact.files.filter(size__isnull=True).values_list("name", "md5", "storage_name")
    )
    found = objectstore.stored_objects(blob for _, _, blob in waiting)
    missing, wrong = [], []
    for name, md5, blob in waiting:
        stored = found.get(blob)
        if stored is None:
            missing.append(name)
        elif stored.md5 is not None and stored.md5 != _hex_md5(md5):
            wrong.append(name)
    if wrong:
        raise UploadError(
            f"{artifact}: the uploaded bytes do not match their MD5: {', '.join(wrong[:5])}."
        )
    if missing:
        raise ArtifactError(f"{artifact}: files not uploaded yet: {', '.join(missing[:5])}.")
    return {blob: stored.size for blob, stored in found.items()}


def manifest_storage_name(artifact: Artifact) -> str:
    return f"artifacts/manifests/{artifact.pk}/{MANIFEST_NAME}"


@transaction.atomic
def artifact_manifest_store(artifact: Artifact, stream) -> Artifact:
    """Keep the manifest of a pending version; its size and file count come from it."""
    # Locked: a commit waits for the manifest being stored, and no manifest follows a commit.
    artifact = (
        Artifact.objects.select_for_update(of=("self",))
        .select_related("collection", "manifest_base")
        .get(pk=artifact.pk)
    )
    check_pending(artifact)
    limit = settings.ARTIFACT_MANIFEST_MAX_BYTES
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise UploadTooLarge(f"The manifest is larger than {limit} bytes.")
    try:
        manifest = load_json(content, "The manifest")
        entries = manifest["contents"]
        policy = manifest.get("storagePolicyConfig") or {}
        region = policy.get("storageRegion") if isinstance(policy, dict) else None
        earlier = _earlier_entries(artifact)
        if earlier is not None:
            entries = {**earlier, **entries}
            manifest["contents"] = entries
            content = json.dumps(manifest).encode()
        sizes = {name: int(entry.get("size") or 0) for name, entry in entries.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UploadError("The manifest is not a wandb artifact manifest.") from None
    if not storage_region_known(region):
        raise UploadError(f"malformed region: {region}")
    if artifact.manifest_base_id is not None:
        _inherit_files(artifact, artifact.manifest_base)
    _adopt_stored_files(artifact, entries)
    # The version's size is kept in a 64-bit column.
    if not all(0 <= size <= MAX_STEP for size in sizes.values()) or sum(sizes.values()) > MAX_STEP:
        raise UploadError("The manifest's file sizes are out of range.")
    name = manifest_storage_name(artifact)
    if default_storage.exists(name):
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(content, name=MANIFEST_NAME))
    Artifact.objects.filter(pk=artifact.pk).update(
        manifest_storage_name=stored,
        size=sum(sizes.values()),
        file_count=len(sizes),
        updated_at=timezone.now(),
    )
    artifact.refresh_from_db()
    return artifact


def _earlier_entries(artifact: Artifact) -> dict | None:
    """What a manifest upload adds to: an incremental version's base, or what the other writers
    of a distributed version uploaded; None when the upload is the whole manifest."""
    if artifact.manifest_base_id is not None:
        return _stored_manifest(artifact.manifest_base)["contents"]
    if artifact.distributed_id and artifact.manifest_storage_name:
        return _stored_manifest(artifact)["contents"]
    return None


def manifest_digest(entries: dict) -> str:
    """The client's digest of a manifest: its entries' paths and digests, in path order."""
    hasher = hashlib.md5(b"wandb-artifact-manifest-v1\n")
    for path in sorted(entries):
        hasher.update(f"{path}:{entries[path].get('digest')}\n".encode())
    return hasher.hexdigest()


def _stored_manifest(artifact: Artifact) -> dict:
    if not artifact.manifest_storage_name:
        raise ValueError("The base version has no manifest.")
    with default_storage.open(artifact.manifest_storage_name, "rb") as stream:
        return load_json(stream.read(), "The base manifest")


def reference_entries(artifact: Artifact) -> dict[str, dict]:
    """The manifest entries that point elsewhere (s3://, gs://, file://, wandb-artifact://)
    rather than at stored bytes. Read from the manifest only when it lists more entries than
    the version has stored files."""
    if (
        not artifact.manifest_storage_name
        or artifact.file_count <= artifact.files.exclude(size=None).count()
    ):
        return {}
    try:
        entries = _stored_manifest(artifact)["contents"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {
        name: entry
        for name, entry in entries.items()
        if isinstance(entry, dict) and isinstance(entry.get("ref"), str)
    }


def _inherit_files(artifact: Artifact, base: Artifact) -> None:
    """An incremental version holds its base's files that it does not replace."""
    own = set(artifact.files.values_list("name", flat=True))
    ArtifactFile.objects.bulk_create(
        [
            ArtifactFile(
                artifact=artifact,
                name=file.name,
                md5=file.md5,
                size=file.size,
                storage_name=file.storage_name,
            )
            for file in base.files.stored()
            if file.name not in own
        ]
    )


def _adopt_stored_files(artifact: Artifact, entries: dict) -> None:
    """Entries the client did not upload because the entity holds their bytes already (a draft
    of a logged version lists its parent's files unchanged) point at those bytes."""
    own = set(artifact.files.values_list("name", flat=True))
    wanted = {}
    for name, entry in entries.items():
        if name in own or entry.get("ref") or not isinstance(entry.get("digest"), str):
            continue
        try:
            check_file_name(name)
            _hex_md5(entry["digest"])
        except RunsError:
            continue  # not a stored file of ours: the client never announced it
        wanted[name] = entry["digest"]
    stored = _stored_copies(artifact.collection.project, set(wanted.values()))
    ArtifactFile.objects.bulk_create(
        ArtifactFile(artifact=artifact, name=name, md5=md5, storage_name=blob, size=size)
        for name, md5 in wanted.items()
        if md5 in stored
        for blob, size in [stored[md5]]
    )


def artifact_manifest_base(artifact: Artifact, base: Artifact) -> Artifact:
    """Make `artifact`'s manifest incremental on `base`, a committed version of its
    collection."""
    check_pending(artifact)
    if base.collection_id != artifact.collection_id or base.state != Artifact.State.COMMITTED:
        raise ArtifactError("An incremental version builds on a committed version of its own.")
    Artifact.objects.filter(pk=artifact.pk).update(manifest_base=base)
    artifact.manifest_base = base
    return artifact


def artifact_commit(artifact: Artifact) -> Artifact:
    # The bucket is asked before the version is locked; a refusal changes nothing.
    uploaded = {} if artifact.state == Artifact.State.COMMITTED else _uploaded_to_bucket(artifact)
    return _commit(artifact, uploaded)


@transaction.atomic
def _commit(artifact: Artifact, uploaded: dict[str, int]) -> Artifact:
    artifact = Artifact.objects.select_for_update().get(pk=artifact.pk)
    if artifact.state == Artifact.State.COMMITTED:
        return artifact
    for blob, size in uploaded.items():
        _blob_stored(blob, size)
    missing = list(artifact.files.filter(size__isnull=True).values_list("name", flat=True)[:5])
    if missing:
        raise ArtifactError(f"{artifact}: files not uploaded yet: {', '.join(missing)}.")
    if not artifact.manifest_storage_name:
        raise ArtifactError(f"{artifact}: upload its manifest before committing it.")
    if artifact.distributed_id:
        # Each writer announced the digest of its own part; the version is the whole.
        artifact.digest = manifest_digest(_stored_manifest(artifact)["contents"])
    artifact.state = Artifact.State.COMMITTED
    artifact.updated_at = timezone.now()
    artifact.save(update_fields=["state", "updated_at", "digest"])
    _move_aliases(artifact, artifact.requested_aliases)
    return artifact


def artifact_use(*, artifact: Artifact, run: Run) -> None:
    artifact.used_by.add(run)


def resolve_artifact(project: Project, reference: str) -> Artifact | None:
    """The version a reference names within a project: name:alias, name:v3, or name alone
    for its latest version."""
    name, _, alias = reference.partition(":")
    alias = alias or LATEST
    versions = Artifact.objects.select_related("collection").filter(
        collection__project=project, collection__name=name
    )
    version = VERSION_ALIAS.match(alias)
    if version:
        return versions.filter(version_index=int(version.group(1))).first()
    # The alias of this collection: a portfolio's aliases point at versions of other ones.
    return versions.filter(aliases__alias=alias, aliases__collection=F("collection")).first()


@transaction.atomic
def artifact_update(
    artifact: Artifact,
    *,
    description: str | None = None,
    metadata: dict | None = None,
    tags_to_add=(),
    tags_to_delete=(),
) -> Artifact:
    """Change a version's description, metadata and tags: all of them or, refused, none."""
    tags_to_add, tags_to_delete = check_tags(tags_to_add), check_tags(tags_to_delete)
    artifact = Artifact.objects.select_for_update().get(pk=artifact.pk)
    if description is not None:
        artifact.description = description
    if metadata is not None:
        artifact.metadata = metadata
    artifact.updated_at = timezone.now()
    artifact.save(update_fields=["description", "metadata", "updated_at"])
    artifact.tags.filter(name__in=tags_to_delete).delete()
    _add_tags(artifact, [tag for tag in tags_to_add if tag not in tags_to_delete])
    return artifact


@transaction.atomic
def aliases_add(artifact: Artifact, aliases: list[str]) -> None:
    """Point these aliases of the version's collection at it, wherever they pointed before."""
    _check_committed(artifact)
    _move_aliases(artifact, [_check_alias(alias) for alias in dict.fromkeys(aliases)])


@transaction.atomic
def aliases_delete(artifact: Artifact, aliases: list[str]) -> None:
    """Remove these aliases from the version (an alias on another version stays)."""
    ArtifactAlias.objects.filter(
        collection_id=artifact.collection_id, artifact=artifact, alias__in=list(aliases)
    ).delete()


def _check_committed(artifact: Artifact) -> None:
    if artifact.state != Artifact.State.COMMITTED:
        raise ArtifactError(f"{artifact} is not committed yet; aliases follow its commit.")


@transaction.atomic
def artifact_delete(artifact: Artifact, *, delete_aliases: bool = False) -> None:
    """Delete a version, its files and tags. A version with aliases is kept unless they go too:
    something may refer to it by them."""
    artifact = Artifact.objects.select_for_update().get(pk=artifact.pk)
    aliases = list(artifact.aliases.values_list("alias", flat=True))
    if aliases and not delete_aliases:
        raise ArtifactError(
            f"{artifact.collection.name}:{artifact.version} has aliases "
            f"({', '.join(sorted(aliases))}); delete them with it or remove them first."
        )
    blobs = set(artifact.files.values_list("storage_name", flat=True))
    manifest = artifact.manifest_storage_name
    artifact.delete()
    manifests = [manifest] if manifest else []
    transaction.on_commit(
        lambda: stored_files_delete.enqueue(blobs=sorted(blobs), manifests=manifests)
    )


@task
def stored_files_delete(*, blobs: list[str], manifests: list[str]) -> int:
    """Remove the stored bytes of deleted versions: their manifests, and the files no version
    refers to any more (files are shared by digest, so that is checked when the task runs).
    A task: a version can hold thousands of files, each a request to the storage."""
    kept = set(
        ArtifactFile.objects.filter(storage_name__in=blobs).values_list("storage_name", flat=True)
    )
    names = [*(name for name in blobs if name not in kept), *manifests]
    for name in names:
        default_storage.delete(name)
    return len(names)
