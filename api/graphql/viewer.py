"""Who is asking and what the server offers: viewer, serverInfo, entity, User and Entity."""

from ariadne import ObjectType

from teams.access import Need, entity_permissions
from teams.models import Entity, Membership

from .common import actor_of, default_entity, node_id, query


@query.field("viewer")
def resolve_viewer(_, info):
    return actor_of(info)


# The client releases this server is tested with. The client caches serverInfo only once it
# names a max_cli_version (without one it asks again before every media log); `wandb verify`
# compares its own version with both.
CLI_VERSION_INFO = {"min_cli_version": "0.28.0", "max_cli_version": "0.31.0"}


@query.field("serverInfo")
def resolve_server_info(*_):
    # No optional features: the client then uses its plainest paths (no gzip, no multipart).
    return {"features": [], "cliVersionInfo": CLI_VERSION_INFO, "latestLocalVersionInfo": None}


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


@user_type.field("entity")
def resolve_user_entity(user, _):
    entity = default_entity(user)
    return entity.name if entity else None


@user_type.field("admin")
def resolve_user_admin(user, _):
    return False


@user_type.field("flags")
def resolve_user_flags(user, _):
    return "{}"


@user_type.field("teams")
def resolve_user_teams(user, _, first=None):
    memberships = Membership.objects.filter(
        user=user, entity__kind=Entity.Kind.TEAM
    ).select_related("entity")
    return {"edges": [{"node": membership.entity} for membership in memberships]}


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
