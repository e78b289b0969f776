"""Changing a collection as a whole: its name, description, type and tags.

A rename keeps every version, alias, link and stored file (they point at the collection's row,
not its name); only the addresses change. Renaming a registered model that holds a protected
alias is for admins only, because whoever resolves `name:production` would stop finding it."""

from django.db import transaction
from django.utils import timezone

from .models import ArtifactAlias, ArtifactCollection, ArtifactCollectionTag, ArtifactLink
from .registry import check_may_move
from .services import NAME, ArtifactError, check_tags

# Types the wandb client keeps for itself (run tables, code, history); nobody retypes into or
# out of them.
INTERNAL_TYPE_PREFIX = "wandb-"
MAX_TYPE_LENGTH = 128
UNCHANGED = object()


def _lock(collection: ArtifactCollection) -> ArtifactCollection:
    return (
        ArtifactCollection.objects.select_for_update()
        .select_related("project__entity")
        .get(pk=collection.pk)
    )


def _check_name(collection: ArtifactCollection, name: str) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise ArtifactError(
            f"“{name}” is not a valid collection name: letters, digits, '-', '_' and '.', "
            "at most 128 characters."
        )
    taken = (
        ArtifactCollection.objects.filter(project_id=collection.project_id, name=name)
        .exclude(pk=collection.pk)
        .exists()
    )
    if taken:
        raise ArtifactError(f"{collection.project.path} already has a collection named {name}.")


def _check_rename_allowed(collection: ArtifactCollection, actor) -> None:
    if collection.is_portfolio:
        held = ArtifactAlias.objects.filter(collection=collection).values_list("alias", flat=True)
        check_may_move(actor, collection.project.entity, held)


@transaction.atomic
def collection_update(
    collection: ArtifactCollection, *, actor, name=UNCHANGED, description=UNCHANGED
) -> ArtifactCollection:
    """Rename a collection and/or change its description (None clears it): both or neither."""
    collection = _lock(collection)
    if name is not UNCHANGED and name is not None and name != collection.name:
        _check_name(collection, name)
        _check_rename_allowed(collection, actor)
        collection.name = name
    if description is not UNCHANGED:
        if description is not None and not isinstance(description, str):
            raise ArtifactError("A description is text.")
        collection.description = description
    collection.updated_at = timezone.now()
    collection.save(update_fields=["name", "description", "updated_at"])
    return collection


def _check_type(type_name) -> str:
    if not isinstance(type_name, str) or not type_name.strip():
        raise ArtifactError("A collection needs a type.")
    if len(type_name) > MAX_TYPE_LENGTH:
        raise ArtifactError(f"A type has at most {MAX_TYPE_LENGTH} characters.")
    if type_name.startswith(INTERNAL_TYPE_PREFIX):
        raise ArtifactError(f"The type “{type_name}” is reserved for internal use.")
    return type_name


@transaction.atomic
def collection_retype(collection: ArtifactCollection, type_name: str) -> ArtifactCollection:
    """Give a sequence and all its versions another type. Refused for registered models (their
    type is that of what is linked) and for sequences linked into one of another type."""
    collection = _lock(collection)
    if collection.type == type_name:
        return collection
    if collection.is_portfolio:
        raise ArtifactError(f"{collection.name} is a registered model; its type cannot change.")
    if collection.type.startswith(INTERNAL_TYPE_PREFIX):
        raise ArtifactError(
            f"The current type “{collection.type}” is an internal type and cannot be changed."
        )
    _check_type(type_name)
    linked_into = sorted(
        set(
            ArtifactLink.objects.filter(artifact__collection=collection).values_list(
                "portfolio__name", flat=True
            )
        )
    )
    if linked_into:
        raise ArtifactError(
            f"Versions of {collection.name} are linked into {', '.join(linked_into)} "
            f"(registered as “{collection.type}”); unlink them before changing the type."
        )
    collection.type = type_name
    collection.updated_at = timezone.now()
    collection.save(update_fields=["type", "updated_at"])
    return collection


@transaction.atomic
def collection_tags_add(collection: ArtifactCollection, tags) -> list[str]:
    tags = check_tags(tags)
    ArtifactCollectionTag.objects.bulk_create(
        [ArtifactCollectionTag(collection=collection, name=tag) for tag in tags],
        ignore_conflicts=True,
    )
    _touch(collection)
    return tags


@transaction.atomic
def collection_tags_delete(collection: ArtifactCollection, tags) -> None:
    tags = check_tags(tags)
    collection.tags.filter(name__in=tags).delete()
    _touch(collection)


def _touch(collection: ArtifactCollection) -> None:
    ArtifactCollection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())


@transaction.atomic
def collection_edit(
    collection: ArtifactCollection, *, actor, name: str, description: str, type_name=None
) -> ArtifactCollection:
    """The collection page's edit: name, description and type together, or nothing."""
    collection = collection_update(
        collection, actor=actor, name=name, description=description or None
    )
    if type_name is not None and type_name != collection.type:
        collection = collection_retype(collection, type_name)
    return collection
