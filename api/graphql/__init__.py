"""The wandb-compatible GraphQL API: the schema files (`*.graphql` here) bound to resolvers that
call the same services and access rules as the site. Things the key may not see resolve to null,
exactly as things that do not exist.

One module per domain adds its fields to the shared `query`, `mutation` and object types
(`common`, and the module of each type's domain), its types in the `.graphql` file of the same
name; this one binds them all to the schema."""

from pathlib import Path

from ariadne import convert_camel_case_to_snake, load_schema_from_path, make_executable_schema
from graphql import GraphQLObjectType

# files and history bind nothing of their own: importing them adds their fields to runs.run_type
# (artifact_lists to the project, artifact and collection types).
from . import (  # noqa: F401
    artifact_edits,
    artifact_lists,
    artifacts,
    collection_edits,
    common,
    files,
    history,
    projects,
    registry,
    reports,
    run_delete,
    runs,
    sweeps,
    viewer,
)
from .common import ApiError

__all__ = ["ApiError", "schema"]


def _default_resolver(parent, info, **_):
    """Dicts by the field's name; model instances by its snake_case attribute (fileCount ->
    file_count), the fields needing more have resolvers
    in the domain modules."""
    if isinstance(parent, dict):
        return parent.get(info.field_name)
    return getattr(parent, convert_camel_case_to_snake(info.field_name), None)


def _with_default_resolvers(schema):
    for graphql_type in schema.type_map.values():
        if isinstance(graphql_type, GraphQLObjectType) and not graphql_type.name.startswith("__"):
            for field in graphql_type.fields.values():
                if field.resolve is None:
                    field.resolve = _default_resolver
    return schema


schema = make_executable_schema(
    load_schema_from_path(Path(__file__).parent),
    common.query,
    common.mutation,
    viewer.user_type,
    viewer.entity_type,
    viewer.api_key_type,
    projects.project_type,
    files.file_connection_type,
    runs.run_type,
    sweeps.sweep_type,
    sweeps.agent_type,
    artifacts.artifact_type,
    artifact_edits.artifact_creator_type,
    artifacts.alias_type,
    artifacts.collection_interface,
    artifacts.sequence_type,
    artifacts.membership_type,
    registry.portfolio_type,
    reports.view_type,
    artifact_lists.type_type,
    common.datetime_scalar,
    common.json_string_scalar,
    common.int64_scalar,
    common.duration_scalar,
    common.json_scalar,
)
_with_default_resolvers(schema)
