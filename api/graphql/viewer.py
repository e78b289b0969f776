"""Who is asking and what the server offers: viewer, serverInfo, entity, User and Entity."""

from ariadne import ObjectType
from django.db.models import Q, Sum

from accounts.models import ApiKey
from artifacts.models import Artifact
from runs.models import RunFile
from teams import services as team_services
from teams.access import Need, entity_permissions
from teams.models import Entity, Membership, Role

from .common import ApiError, actor_of, default_entity, mutation, node_id, query

# `users(query:)` answers at most this many people.
MAX_USERS = 100


@query.field("viewer")
def resolve_viewer(_, info):
    return actor_of(info)


# The client releases this server is tested with. The client caches serverInfo only once it
# names a max_cli_version (without one it asks again before every media log); `wandb verify`
# compares its own version with both.
CLI_VERSION_INFO = {"min_cli_version": "0.28.0", "max_cli_version": "0.31.0"}


# Only features that add a field or an operation the client otherwise does without; none that
# change how runs and artifacts are sent, so the client keeps its plainest paths there (no gzip,
# no multipart).
FEATURES = (
    "TOTAL_COUNT_IN_FILE_CONNECTION",  # len(artifact.files())
    "UPDATE_RUN_STATE",  # run.update_state(...)
    "SWEEPS_QUERY_FILTERING",  # project.sweeps(filters=...): name, displayName, state
)


@query.field("serverInfo")
def resolve_server_info(*_):
    return {
        "features": [{"name": name, "isEnabled": True} for name in FEATURES],
        "cliVersionInfo": CLI_VERSION_INFO,
        "latestLocalVersionInfo": None,
    }


@query.field("entity")
def resolve_entity(_, info, name):
    entity = Entity.objects.filter(name=name.lower()).first()
    if entity is None or Need.VIEW not in entity_permissions(actor_of(info), entity):
        return None
    return entity


user_type = ObjectType("User")


@user_type.field("id")
def resolve_user_id(user, _):
    return node_id("User", user.pk)


@user_type.field("name")
def resolve_user_name(user, _):
    return user.get_full_name() or user.username


def _per_user(info, what: str, user, read):
    """Read once per request and person: a list of projects names each creator many times."""
    cache = info.context.setdefault(what, {})
    if user.pk not in cache:
        cache[user.pk] = read()
    return cache[user.pk]


@user_type.field("entity")
def resolve_user_entity(user, info):
    entity = _per_user(info, "default_entities", user, lambda: default_entity(user))
    return entity.name if entity else None


def is_site_admin(user) -> bool:
    """W&B's instance admin: Teamsite's superuser (the operator), never a team admin."""
    return bool(user.is_authenticated and user.is_superuser and user.is_active)


@user_type.field("admin")
def resolve_user_admin(user, _):
    return user.is_superuser


@user_type.field("flags")
def resolve_user_flags(user, _):
    return "{}"


@user_type.field("teams")
def resolve_user_teams(user, _, first=None):
    """Every entity the user logs to, as W&B counts them: their personal entity first. Teams
    where they are a viewer are left out: the client offers these as places to log."""
    memberships = (
        Membership.objects.filter(user=user)
        .exclude(role=Role.VIEWER)
        .select_related("entity")
        .order_by("-entity__kind", "created_at")  # "user" before "team"
    )
    return {"edges": [{"node": membership.entity} for membership in memberships]}


@user_type.field("photoUrl")
def resolve_user_photo_url(*_):
    return None  # Teamsite keeps no pictures of people


@user_type.field("deletedAt")
def resolve_user_deleted_at(user, _):
    return None


@user_type.field("email")
def resolve_user_email(user, info):
    """A person's address, for themselves, site admins and people who share a team with them;
    a public project's readers see its authors' names only."""
    actor = actor_of(info)
    if actor.pk == user.pk or is_site_admin(actor) or user.pk in _teammate_ids(info, actor):
        return user.email or None
    return None


def _teammate_ids(info, actor) -> set[int]:
    # Once per request: a list of runs asks for each author's address.
    if "teammate_ids" not in info.context:
        info.context["teammate_ids"] = set(
            Membership.objects.filter(entity__memberships__user=actor).values_list(
                "user_id", flat=True
            )
        )
    return info.context["teammate_ids"]


@user_type.field("apiKeys")
def resolve_user_api_keys(user, info):
    """The keys' public parts (the prefix, the label), for the user and site admins only;
    the secret is stored hashed and never leaves the page that created it."""
    actor = actor_of(info)
    if actor.pk != user.pk and not is_site_admin(actor):
        return None
    keys = _per_user(info, "api_keys", user, lambda: list(ApiKey.objects.filter(user=user)))
    return {"edges": [{"node": key} for key in keys]}


api_key_type = ObjectType("ApiKey")


@api_key_type.field("id")
def resolve_api_key_id(api_key, _):
    return node_id("ApiKey", api_key.pk)


@api_key_type.field("name")
def resolve_api_key_name(api_key, _):
    return api_key.prefix


@api_key_type.field("description")
def resolve_api_key_description(api_key, _):
    return api_key.label


@query.field("users")
def resolve_users(_, info, query=None):
    """`api.user(...)`/`api.users(...)`: site admins search people by username or email."""
    if not is_site_admin(actor_of(info)):
        raise ApiError("Only site admins can search users.", status=403)
    people = type(actor_of(info)).objects.order_by("username")
    if query:
        people = people.filter(Q(username__icontains=query) | Q(email__icontains=query))
    return {"edges": [{"node": person} for person in people[:MAX_USERS]]}


entity_type = ObjectType("Entity")


@entity_type.field("id")
def resolve_entity_id(entity, _):
    return node_id("Entity", entity.pk)


@entity_type.field("isTeam")
def resolve_entity_is_team(entity, _):
    return entity.is_team


@entity_type.field("organization")
def resolve_entity_organization(*_):
    return None


@entity_type.field("available")
def resolve_entity_available(*_):
    # Whether the name is free: an entity answered here exists, so it is not.
    return False


@entity_type.field("entityType")
def resolve_entity_type(entity, _):
    return entity.kind.upper()


@entity_type.field("readOnly")
def resolve_entity_read_only(entity, info):
    return Need.WRITE not in entity_permissions(actor_of(info), entity)


@entity_type.field("privateOnly")
def resolve_entity_private_only(entity, _):
    return entity.is_private


@entity_type.field("defaultAccess")
def resolve_entity_default_access(entity, _):
    # W&B's names: members only, or readable by every signed-in user.
    return "PRIVATE" if entity.is_private else "USER_READ"


@entity_type.field("readOnlyAdmin")
@entity_type.field("codeSavingEnabled")
@entity_type.field("isPaid")
def resolve_entity_settings_teamsite_lacks(*_):
    # No admin-only read mode, no server-side code saving switch, no billing.
    return False


@entity_type.field("limits")
def resolve_entity_limits(*_):
    return "{}"


@entity_type.field("storageBytes")
def resolve_entity_storage_bytes(entity, _):
    run_files = RunFile.objects.filter(run__project__entity=entity).aggregate(total=Sum("size"))
    artifacts = Artifact.objects.filter(collection__project__entity=entity).aggregate(
        total=Sum("size")
    )
    return (run_files["total"] or 0) + (artifacts["total"] or 0)


@entity_type.field("members")
def resolve_entity_members(entity, info):
    """The team's people (a personal entity's is its owner); email addresses only for those
    who belong to the entity themselves, never a key."""
    actor = actor_of(info)
    memberships = list(entity.memberships.select_related("user").order_by("created_at"))
    show_email = any(membership.user_id == actor.pk for membership in memberships)
    return [
        {
            "id": node_id("User", membership.user.pk),
            "admin": membership.role == Role.ADMIN,
            "pending": False,
            "email": (membership.user.email or None) if show_email else None,
            "username": membership.user.username,
            "name": membership.user.get_full_name() or membership.user.username,
            "photoUrl": None,
            "accountType": "SERVICE" if membership.role == Role.SERVICE else "USER",
            "apiKey": None,
        }
        for membership in memberships
    ]


@mutation.field("createTeam")
def resolve_create_team(_, info, input):
    """`api.create_team(name)`: the viewer creates the team and becomes its admin."""
    actor = actor_of(info)
    admin_name = input.get("teamAdminUserName")
    if admin_name and admin_name.lower() != actor.username.lower():
        raise ApiError("A team's first admin is whoever creates it.", status=403)
    try:
        team = team_services.team_create(name=input["teamName"], creator=actor)
    except team_services.TeamError as error:
        raise ApiError(str(error), status=403 if actor.is_service else 400) from None
    return {"entity": team, "clientMutationId": input.get("clientMutationId")}
