"""What the artifact pages read: a project's artifacts by type and collection, one version by
its number or alias, its files as folders, and the difference between two versions."""

import difflib
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db.models import Count, F, Max, Prefetch, Q
from django.http import Http404

from .models import Artifact, ArtifactAlias, ArtifactCollection, ArtifactLink
from .registry import REGISTRY_PROJECT
from .services import VERSION_ALIAS

DIFF_TEXT_BYTES = 64 * 1024
DIFF_LINES = 2_000
TEXT_EXTENSIONS = {
    "txt", "md", "py", "json", "yaml", "yml", "csv", "tsv", "cfg", "ini", "toml", "log", "sh",
    "html", "xml", "js", "css", "sql", "rst",
}  # fmt: skip


def project_artifact_types(project) -> list[dict]:
    """Each type of the project's artifacts with its collections, their version counts and
    the date of their newest committed version: one query."""
    collections = (
        ArtifactCollection.objects.filter(project=project)
        .annotate(
            version_count=Count("versions", filter=_committed_filter()),
            last_version_at=Max("versions__created_at", filter=_committed_filter()),
        )
        .order_by("type", "name")
    )
    types: dict[str, list] = {}
    for collection in collections:
        types.setdefault(collection.type, []).append(collection)
    return [{"name": name, "collections": items} for name, items in types.items()]


def _committed_filter():
    return Q(versions__state=Artifact.State.COMMITTED)


def get_collection(project, type_name: str, name: str) -> ArtifactCollection:
    collection = ArtifactCollection.objects.filter(
        project=project, type=type_name, name=name
    ).first()
    if collection is None:
        raise Http404("No such artifact.")
    return collection


def collection_versions(collection) -> list[Artifact]:
    """Its committed versions, newest first, each with this collection's aliases (registered
    models' aliases of the same versions are theirs) and its tags."""
    own_aliases = ArtifactAlias.objects.filter(collection=collection)
    return list(
        collection.versions.committed()
        .select_related("created_by_run__project__entity")
        .prefetch_related(Prefetch("aliases", queryset=own_aliases), "tags")
        .order_by("-version_index")
    )


def own_aliases(artifact: Artifact) -> list[ArtifactAlias]:
    return list(artifact.aliases.filter(collection_id=artifact.collection_id))


def registrations(artifact: Artifact) -> list[ArtifactLink]:
    """The registered models the version is linked into, by name, each with the aliases it
    holds there (`alias_names`) and whether it lives in the team's registry (`in_registry`)."""
    links = list(
        artifact.links.filter(portfolio__project__trashed_at__isnull=True)
        .select_related("portfolio__project__entity")
        .order_by("portfolio__name")
    )
    held = {}
    aliases = ArtifactAlias.objects.filter(
        artifact=artifact, collection_id__in=[link.portfolio_id for link in links]
    ).order_by("alias")
    for collection_id, alias in aliases.values_list("collection_id", "alias"):
        held.setdefault(collection_id, []).append(alias)
    for link in links:
        link.alias_names = held.get(link.portfolio_id, [])
        link.in_registry = link.portfolio.project.name == REGISTRY_PROJECT
    return links


def get_version(collection, version: str) -> Artifact:
    """A committed version by its number (`v3`) or one of its aliases (`latest`)."""
    versions = (
        Artifact.objects.committed()
        .filter(collection=collection)
        .select_related("collection", "created_by_run__project__entity")
    )
    number = VERSION_ALIAS.match(version)
    if number:
        artifact = versions.filter(version_index=int(number.group(1))).first()
    else:
        # An alias of this collection (a registered model's aliases point here too).
        artifact = versions.filter(aliases__alias=version, aliases__collection=collection).first()
    if artifact is None:
        raise Http404("No such version.")
    artifact.collection = collection
    return artifact


def version_file(artifact, name: str):
    file = artifact.files.stored().filter(name=name).first()
    if file is None:
        raise Http404("No such file.")
    return file


@dataclass
class Folder:
    name: str
    path: str
    size: int = 0
    file_count: int = 0


@dataclass
class Listing:
    path: str  # "" or "a/b/"
    folders: list = field(default_factory=list)
    files: list = field(default_factory=list)
    crumbs: list = field(default_factory=list)  # (name, path) from the root


def folder_listing(artifact, path: str = "") -> Listing:
    """The folders and files directly under `path`, folders from the file names, with sizes."""
    path = path.strip("/")
    path = f"{path}/" if path else ""
    listing = Listing(path=path)
    folders: dict[str, Folder] = {}
    for file in artifact.files.stored().filter(name__startswith=path).only("name", "size"):
        rest = file.name[len(path) :]
        if "/" in rest:
            head = rest.split("/", 1)[0]
            folder = folders.setdefault(head, Folder(name=head, path=f"{path}{head}/"))
            folder.size += file.size or 0
            folder.file_count += 1
        else:
            file.short_name = rest
            listing.files.append(file)
    if path and not folders and not listing.files:
        raise Http404("No such folder.")
    listing.folders = sorted(folders.values(), key=lambda folder: folder.name)
    parts = path.strip("/").split("/") if path else []
    listing.crumbs = [(part, "/".join(parts[: i + 1]) + "/") for i, part in enumerate(parts)]
    return listing


@dataclass
class FileChange:
    name: str
    old: object = None  # ArtifactFile
    new: object = None
    diff: list = field(default_factory=list)  # unified diff lines
    diff_note: str = ""


@dataclass
class VersionDiff:
    old: Artifact
    new: Artifact
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    unchanged: int = 0


def _is_text(name: str) -> bool:
    last = name.rsplit("/", 1)[-1]
    return "." in last and last.rsplit(".", 1)[-1].lower() in TEXT_EXTENSIONS


def _read_text(file) -> str | None:
    if not default_storage.exists(file.storage_name):
        return None
    with default_storage.open(file.storage_name) as handle:
        content = handle.read(DIFF_TEXT_BYTES + 1)
    if len(content) > DIFF_TEXT_BYTES or b"\0" in content:
        return None
    try:
        return content.decode()
    except UnicodeDecodeError:
        return None


def _text_diff(change: FileChange) -> None:
    if not _is_text(change.name):
        change.diff_note = "Not a text file."
        return
    if max(change.old.size or 0, change.new.size or 0) > DIFF_TEXT_BYTES:
        change.diff_note = f"Larger than {DIFF_TEXT_BYTES // 1024} KB: no text diff."
        return
    old, new = _read_text(change.old), _read_text(change.new)
    if old is None or new is None:
        change.diff_note = "Not readable as text."
        return
    lines = list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            f"{change.old.artifact.version}/{change.name}",
            f"{change.new.artifact.version}/{change.name}",
            lineterm="",
        )
    )
    if len(lines) > DIFF_LINES:
        change.diff_note = f"Shown: the first {DIFF_LINES} lines of the diff."
        lines = lines[:DIFF_LINES]
    change.diff = lines


def version_diff(old: Artifact, new: Artifact) -> VersionDiff:
    """Files added, removed and changed (by digest) from `old` to `new`; a text diff of the
    changed small text files. Two queries, then the changed files' bytes."""
    before = {file.name: file for file in old.files.stored()}
    after = {file.name: file for file in new.files.stored()}
    diff = VersionDiff(old=old, new=new)
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        if a is None:
            diff.added.append(b)
        elif b is None:
            diff.removed.append(a)
        elif a.md5 != b.md5:
            a.artifact, b.artifact = old, new
            change = FileChange(name=name, old=a, new=b)
            _text_diff(change)
            diff.changed.append(change)
        else:
            diff.unchanged += 1
    return diff


def find_version(project, name: str, version: str) -> Artifact | None:
    """A committed version of the project's artifact `name` by its number (`v3`) or one of its
    aliases (`latest`), with its collection, producing run and own aliases (`alias_names`);
    None if there is no such artifact or version. Two queries."""
    versions = (
        Artifact.objects.committed()
        .filter(
            collection__project=project,
            collection__name=name,
            collection__kind=ArtifactCollection.Kind.SEQUENCE,
        )
        .select_related("collection", "created_by_run")
    )
    number = VERSION_ALIAS.match(version)
    if number:
        artifact = versions.filter(version_index=int(number.group(1))).first()
    else:
        artifact = versions.filter(
            aliases__alias=version, aliases__collection=F("collection")
        ).first()
    if artifact is not None:
        artifact.alias_names = list(
            ArtifactAlias.objects.filter(artifact=artifact, collection_id=artifact.collection_id)
            .order_by("alias")
            .values_list("alias", flat=True)
        )
    return artifact
