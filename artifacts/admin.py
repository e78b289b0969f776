from django.contrib import admin

from .models import (
    AliasMove,
    Artifact,
    ArtifactAlias,
    ArtifactCollection,
    ArtifactFile,
    ArtifactLink,
    ProtectedAlias,
)


class ArtifactAliasInline(admin.TabularInline):
    model = ArtifactAlias
    fk_name = "artifact"
    extra = 0
    readonly_fields = ["collection"]


class ArtifactFileInline(admin.TabularInline):
    model = ArtifactFile
    extra = 0
    readonly_fields = ["name", "md5", "size", "storage_name"]
    can_delete = False


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "collection", "state", "size", "file_count", "created_at"]
    list_filter = ["state", "collection__type"]
    search_fields = ["collection__name", "digest", "collection__project__name"]
    list_select_related = ["collection__project__entity"]
    readonly_fields = [
        "collection",
        "version_index",
        "digest",
        "state",
        "created_by_run",
        "manifest_storage_name",
        "size",
        "file_count",
        "requested_aliases",
        "created_at",
        "updated_at",
    ]
    exclude = ["used_by"]
    inlines = [ArtifactAliasInline, ArtifactFileInline]


@admin.register(ArtifactCollection)
class ArtifactCollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "kind", "project", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "project__name", "project__entity__name"]
    list_select_related = ["project__entity"]
    readonly_fields = ["project", "name", "type", "kind", "created_at"]


@admin.register(ProtectedAlias)
class ProtectedAliasAdmin(admin.ModelAdmin):
    """Aliases of a team's registered models that only its admins move (besides the built-in
    production and staging)."""

    list_display = ["alias", "entity"]
    search_fields = ["alias", "entity__name"]
    list_select_related = ["entity"]
    autocomplete_fields = ["entity"]


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the registry services only. Deletion stays allowed: deleting a project or a
    team in the admin takes its links and their history with it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ArtifactLink)
class ArtifactLinkAdmin(_ReadOnlyAdmin):
    list_display = ["__str__", "artifact", "linked_by", "created_at"]
    search_fields = ["portfolio__name", "portfolio__project__entity__name"]
    list_select_related = ["portfolio", "artifact__collection", "linked_by"]


@admin.register(AliasMove)
class AliasMoveAdmin(_ReadOnlyAdmin):
    list_display = [
        "portfolio",
        "alias",
        "from_version_index",
        "to_version_index",
        "moved_by",
        "moved_at",
    ]
    list_filter = ["alias"]
    search_fields = ["portfolio__name", "alias", "moved_by__username"]
    list_select_related = ["portfolio", "moved_by"]
