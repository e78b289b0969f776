from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from runs.services import RunsError

from . import registry
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
    team in the admin takes its links (and, with the team, the alias history) with it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(permissions=["delete"], description=admin_actions.delete_selected.short_description)
def delete_selected(modeladmin, request, queryset):
    """Django's "delete selected" (its confirmation page, then delete_queryset), refused
    whole with a message when one link may not go."""
    try:
        with transaction.atomic():
            return admin_actions.delete_selected(modeladmin, request, queryset)
    except RunsError as error:
        modeladmin.message_user(request, str(error), messages.ERROR)
        return None


@admin.register(ArtifactLink)
class ArtifactLinkAdmin(_ReadOnlyAdmin):
    """Deleting a link unlinks it through the registry: protected aliases stay with the
    team's admins, the removals are audited and `latest` moves to the newest link left."""

    list_display = ["__str__", "artifact", "linked_by", "created_at"]
    search_fields = ["portfolio__name", "portfolio__project__entity__name"]
    list_select_related = ["portfolio", "artifact__collection", "linked_by"]
    actions = [delete_selected]  # in place of the site's action of that name

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for link in objs:
            try:
                registry.check_may_unlink(link=link, actor=request.user)
            except RunsError as error:
                protected.append(f"{link}: {error}")
        return deleted, counts, perms_needed, protected

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("portfolio__project__entity")

    def delete_view(self, request, object_id, extra_context=None):
        # The confirmation lists a protected alias the user may not remove; one that became
        # protected since is refused by the registry, and shown as a message.
        try:
            return super().delete_view(request, object_id, extra_context)
        except RunsError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:artifacts_artifactlink_changelist"))

    def delete_model(self, request, obj):
        registry.artifact_unlink(link=obj, actor=request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        # Oldest first, so that `latest` moves once per model, onto a link that stays.
        for link in queryset.select_related("portfolio").order_by("portfolio_id", "version_index"):
            registry.artifact_unlink(link=link, actor=request.user)


@admin.register(AliasMove)
class AliasMoveAdmin(_ReadOnlyAdmin):
    list_display = [
        "portfolio_name",
        "entity",
        "alias",
        "from_version_index",
        "to_version_index",
        "moved_by",
        "moved_at",
    ]
    list_filter = ["alias"]
    search_fields = ["portfolio_name", "entity__name", "alias", "moved_by__username"]
    list_select_related = ["entity", "moved_by"]
