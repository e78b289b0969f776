from django.contrib import admin

from .models import Artifact, ArtifactAlias, ArtifactCollection, ArtifactFile


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
    list_display = ["name", "type", "project", "created_at"]
    search_fields = ["name", "project__name", "project__entity__name"]
    list_select_related = ["project__entity"]
    readonly_fields = ["project", "name", "type", "created_at"]
