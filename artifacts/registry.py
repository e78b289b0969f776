"""The team model registry: registered models (portfolios, as the wandb client calls them)
whose versions are links to logged versions of the same entity, and their aliases.

`production`, `staging` and the aliases a team lists (ProtectedAlias) move only by its admins;
every alias move in a portfolio is written to AliasMove, removals by a delete included, and the
history stays when the portfolio goes."""

from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery

from projects.models import Project
from runs.services import RunsForbidden
from teams.access import Need, entity_permissions
from teams.models import Entity

from .models import (
    AliasMove,
    Artifact,
    ArtifactAlias,
    ArtifactCollection,
    ArtifactLink,
    ProtectedAlias,
)
from .services import (
    LATEST,
    NAME,
    VERSION_ALIAS,
    ArtifactError,
    _check_alias,
    stored_files_delete,
)

REGISTRY_PROJECT = "model-registry"
# Links whose version was logged in a project in the trash are left out of what the registry
# shows and resolves (a join to the project skips its manager, so it is said here).
LINKED_FROM_LIVE_PROJECT = Q(artifact__collection__project__trashed_at__isnull=True)


class AliasProtected(RunsForbidden):
    """A protected alias was to move and the actor is not an admin of the team."""


def protected_aliases(entity: Entity) -> set[str]:
    return {*ProtectedAlias.BUILT_IN, *entity.protected_aliases.values_list("alias", flat=True)}


def is_registry_admin(actor, entity: Entity) -> bool:
    return Need.ADMIN in entity_permissions(actor, entity)


def check_may_move(actor, entity: Entity, aliases) -> None:
    protected = sorted(set(aliases) & protected_aliases(entity))
    if protected and not is_registry_admin(actor, entity):
        raise AliasProtected(
            f"Only admins of {entity.name} can move the protected alias"
            f"{'es' if len(protected) > 1 else ''} {', '.join(protected)}."
        )


def _lock_portfolio(portfolio: ArtifactCollection) -> ArtifactCollection:
    # One alias move and one version number at a time per portfolio. Its project and entity
    # come along (unlocked) for the permission checks and the audit rows.
    return (
        ArtifactCollection.objects.select_for_update(of=("self",))
        .select_related("project__entity")
        .get(pk=portfolio.pk)
    )


def _move_alias(*, portfolio: ArtifactCollection, link: ArtifactLink | None, alias: str, actor):
    """Point `alias` at `link` (None removes it), auditing the move if anything changed."""
    current = (
        ArtifactAlias.objects.filter(collection=portfolio, alias=alias)
        .select_related("artifact")
        .first()
    )
    from_index = None
    if current is not None:
        from_index = (
            ArtifactLink.objects.filter(portfolio=portfolio, artifact_id=current.artifact_id)
            .values_list("version_index", flat=True)
            .first()
        )
        if link is not None and current.artifact_id == link.artifact_id:
            return
    if link is None:
        if current is None:
            return
        current.delete()
    elif current is None:
        ArtifactAlias.objects.create(
            collection=portfolio, artifact_id=link.artifact_id, alias=alias
        )
    else:
        current.artifact_id = link.artifact_id
        current.save(update_fields=["artifact"])
    AliasMove.of(
        portfolio,
        alias=alias,
        from_index=from_index,
        to_index=link.version_index if link else None,
        actor=actor,
    ).save()


def _record_removals(aliases, actor) -> None:
    """Audit the removal of these aliases (of portfolios, their project and entity loaded),
    which a delete is about to take: one insert."""
    AliasMove.objects.bulk_create(
        AliasMove.of(
            alias.collection,
            alias=alias.alias,
            from_index=alias.from_index,
            to_index=None,
            actor=actor,
        )
        for alias in aliases
    )


def _aliases_held(**filters):
    """Portfolio aliases with the version index (`from_index`) of the link each points at."""
    link_index = ArtifactLink.objects.filter(
        portfolio_id=OuterRef("collection_id"), artifact_id=OuterRef("artifact_id")
    ).values("version_index")[:1]
    return (
        ArtifactAlias.objects.filter(**filters)
        .select_related("collection__project__entity")
        .annotate(from_index=Subquery(link_index))
        .order_by("collection_id", "alias")
    )


@transaction.atomic
def artifact_link(
    *, artifact: Artifact, project: Project, portfolio_name: str, aliases=(), actor
) -> ArtifactLink:
    """Link a committed version into a portfolio of `project` (created on first link), with
    `latest` and the given aliases. Linking a version again returns its link."""
    if not NAME.match(portfolio_name or ""):
        raise ArtifactError(
            f"“{portfolio_name}” is not a valid registered model name: letters, digits, "
            "'-', '_' and '.'."
        )
    source = artifact.collection
    if source.project.entity_id != project.entity_id:
        raise ArtifactError("A version can be linked only within the entity that logged it.")
    if artifact.state != Artifact.State.COMMITTED:
        raise ArtifactError(f"{artifact} is not committed yet; it cannot be linked.")
    aliases = [_check_alias(alias) for alias in dict.fromkeys([*aliases, LATEST])]
    check_may_move(actor, project.entity, aliases)
    portfolio, _ = ArtifactCollection.objects.get_or_create(
        project=project,
        name=portfolio_name,
        defaults={"type": source.type, "kind": ArtifactCollection.Kind.PORTFOLIO},
    )
    portfolio = _lock_portfolio(portfolio)
    if not portfolio.is_portfolio:
        raise ArtifactError(
            f"{project.name}/{portfolio_name} holds logged versions; it cannot hold links."
        )
    if portfolio.type != source.type:
        raise ArtifactError(
            f"{portfolio_name} is a registered “{portfolio.type}”; a “{source.type}” version "
            "cannot be linked to it."
        )
    link = ArtifactLink.objects.filter(portfolio=portfolio, artifact=artifact).first()
    if link is None:
        last = portfolio.links.aggregate(last=Max("version_index"))["last"]
        link = ArtifactLink.objects.create(
            portfolio=portfolio,
            artifact=artifact,
            version_index=0 if last is None else last + 1,
            linked_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
    for alias in aliases:
        _move_alias(portfolio=portfolio, link=link, alias=alias, actor=actor)
    link.portfolio = portfolio
    return link


@transaction.atomic
def portfolio_aliases_set(*, link: ArtifactLink, add=(), remove=(), actor) -> ArtifactLink:
    """Move aliases of a portfolio onto (add) or off (remove) one of its links."""
    portfolio = _lock_portfolio(link.portfolio)
    add = [_check_alias(alias) for alias in dict.fromkeys(add)]
    remove = list(dict.fromkeys(remove))
    check_may_move(actor, portfolio.project.entity, [*add, *remove])
    for alias in add:
        _move_alias(portfolio=portfolio, link=link, alias=alias, actor=actor)
    held = set(
        ArtifactAlias.objects.filter(
            collection=portfolio, artifact_id=link.artifact_id, alias__in=remove
        ).values_list("alias", flat=True)
    )
    for alias in remove:
        if alias in held:
            _move_alias(portfolio=portfolio, link=None, alias=alias, actor=actor)
    return link


def _link_aliases(link: ArtifactLink) -> list[str]:
    return list(
        ArtifactAlias.objects.filter(
            collection_id=link.portfolio_id, artifact_id=link.artifact_id
        ).values_list("alias", flat=True)
    )


def check_may_unlink(*, link: ArtifactLink, actor) -> None:
    """Raise AliasProtected if unlinking would remove a protected alias the actor may not
    move (what artifact_unlink checks, for a confirmation page to list before it asks)."""
    check_may_move(actor, link.portfolio.project.entity, _link_aliases(link))


@transaction.atomic
def artifact_unlink(*, link: ArtifactLink, actor) -> None:
    """Remove a link and its aliases (`latest` moves to the newest link left); the version it
    pointed at stays."""
    portfolio = _lock_portfolio(link.portfolio)
    held = _link_aliases(link)
    check_may_move(actor, portfolio.project.entity, held)
    for alias in held:
        _move_alias(portfolio=portfolio, link=None, alias=alias, actor=actor)
    link.delete()
    if LATEST in held:
        newest = portfolio.links.order_by("-version_index").first()
        if newest is not None:
            _move_alias(portfolio=portfolio, link=newest, alias=LATEST, actor=actor)


def check_may_delete(*, collection: ArtifactCollection, actor) -> None:
    """Raise what portfolio_delete or sequence_delete would refuse `collection` with (for a
    confirmation page to list before it asks)."""
    entity = collection.project.entity
    if collection.is_portfolio:
        check_may_move(actor, entity, collection.aliases.values_list("alias", flat=True))
    elif not is_registry_admin(actor, entity):
        raise RunsForbidden(f"Only admins of {entity.name} can delete {collection.name}.")


def collection_delete(*, collection: ArtifactCollection, actor) -> None:
    if collection.is_portfolio:
        portfolio_delete(portfolio=collection, actor=actor)
    else:
        sequence_delete(sequence=collection, actor=actor)


@transaction.atomic
def portfolio_delete(*, portfolio: ArtifactCollection, actor) -> None:
    """Delete a registered model with its links and aliases; the linked versions stay. A model
    holding a protected alias is deleted by admins only."""
    portfolio = _lock_portfolio(portfolio)
    if not portfolio.is_portfolio:
        raise ArtifactError(f"{portfolio.name} is not a registered model.")
    held = list(_aliases_held(collection=portfolio))
    check_may_move(actor, portfolio.project.entity, [alias.alias for alias in held])
    _record_removals(held, actor)
    # Its aliases and links go with it (cascade); its alias history stays (SET_NULL).
    portfolio.delete()


def resolve_link(portfolio: ArtifactCollection, alias: str) -> ArtifactLink | None:
    """The link an alias or a version ("v3") names within a portfolio."""
    links = (
        ArtifactLink.objects.select_related(
            "artifact__collection__project__entity", "portfolio__project__entity"
        )
        .filter(portfolio=portfolio)
        .filter(LINKED_FROM_LIVE_PROJECT)
    )
    version = VERSION_ALIAS.match(alias or LATEST)
    if version:
        return links.filter(version_index=int(version.group(1))).first()
    return links.filter(
        artifact__aliases__collection=portfolio, artifact__aliases__alias=alias or LATEST
    ).first()


@transaction.atomic
def sequence_delete(*, sequence: ArtifactCollection, actor) -> None:
    """Delete an artifact sequence with its versions, their links into registered models and
    their aliases there: by the entity's admins only. The stored files stay (other versions may
    share them); the manifests of the versions go once the deletion commits."""
    entity = sequence.project.entity
    if not is_registry_admin(actor, entity):
        raise RunsForbidden(f"Only admins of {entity.name} can delete {sequence.name}.")
    sequence = _lock_portfolio(sequence)
    if sequence.is_portfolio:
        raise ArtifactError(f"{sequence.name} is a registered model.")
    manifests = [
        name for name in sequence.versions.values_list("manifest_storage_name", flat=True) if name
    ]
    # The links to these versions and the registered models' aliases on them go with the
    # versions: their removal is audited, and `latest` moves to each model's newest link left.
    portfolio_pks = sorted(
        set(
            ArtifactLink.objects.filter(artifact__collection=sequence).values_list(
                "portfolio_id", flat=True
            )
        )
    )
    portfolios = {
        portfolio.pk: portfolio
        for portfolio in ArtifactCollection.objects.select_for_update(of=("self",))
        .select_related("project__entity")
        .filter(pk__in=portfolio_pks)
        .order_by("pk")
    }
    held = list(_aliases_held(collection__in=portfolio_pks, artifact__collection=sequence))
    _record_removals(held, actor)
    sequence.delete()
    for portfolio_pk in sorted({alias.collection_id for alias in held if alias.alias == LATEST}):
        portfolio = portfolios[portfolio_pk]
        newest = portfolio.links.order_by("-version_index").first()
        if newest is not None:
            _move_alias(portfolio=portfolio, link=newest, alias=LATEST, actor=actor)
    transaction.on_commit(lambda: stored_files_delete.enqueue(blobs=[], manifests=manifests))
