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


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the registry services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _RegistryDeleteAdmin(admin.ModelAdmin):
    """Deletes through the registry: its rules apply to operators too, and the alias removals
    are audited. The confirmation page lists what the registry would refuse (`registry_check`);
    a refusal it could not list (an alias moved since) comes back as a message, not a 500."""

    actions = ["delete_selected"]  # the one below, in place of the site's

    def registry_check(self, obj, actor) -> None:
        raise NotImplementedError

    def registry_delete(self, obj, actor) -> None:
        raise NotImplementedError

    def deletion_order(self, queryset):
        return queryset

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for obj in objs:
            try:
                self.registry_check(obj, request.user)
            except RunsError as error:
                protected.append(f"{obj}: {error}")
        return deleted, counts, perms_needed, protected

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except RunsError as error:
            self.message_user(request, str(error), messages.ERROR)
            changelist = f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
            return HttpResponseRedirect(reverse(changelist))

    def delete_model(self, request, obj):
        self.registry_delete(obj, request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in self.deletion_order(queryset):
            self.registry_delete(obj, request.user)

    @admin.action(
        permissions=["delete"], description=admin_actions.delete_selected.short_description
    )
    def delete_selected(self, request, queryset):
        """Django's "delete selected" (its confirmation page, then delete_queryset), refused
        whole with a message when one object may not go."""
        try:
            with transaction.atomic():
                return admin_actions.delete_selected(self, request, queryset)
        except RunsError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None


@admin.register(ArtifactCollection)
class ArtifactCollectionAdmin(_RegistryDeleteAdmin):
    """Deleting a registered model or a logged sequence goes through the registry: a sequence
    by the team's admins only, a model holding a protected alias too."""

    list_display = ["name", "type", "kind", "project", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "project__name", "project__entity__name"]
    list_select_related = ["project__entity"]
    readonly_fields = ["project", "name", "type", "kind", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project__entity")

    def registry_check(self, obj, actor):
        registry.check_may_delete(collection=obj, actor=actor)

    def registry_delete(self, obj, actor):
        registry.collection_delete(collection=obj, actor=actor)


@admin.register(ProtectedAlias)
class ProtectedAliasAdmin(admin.ModelAdmin):
    """Aliases of a team's registered models that only its admins move (besides the built-in
    production and staging)."""

    list_display = ["alias", "entity"]
    search_fields = ["alias", "entity__name"]
    list_select_related = ["entity"]
    autocomplete_fields = ["entity"]


@admin.register(ArtifactLink)
class ArtifactLinkAdmin(_ReadOnlyAdmin, _RegistryDeleteAdmin):
    """Deleting a link unlinks it through the registry: protected aliases stay with the
    team's admins, the removals are audited and `latest` moves to the newest link left."""

    list_display = ["__str__", "artifact", "linked_by", "created_at"]
    search_fields = ["portfolio__name", "portfolio__project__entity__name"]
    list_select_related = ["portfolio", "artifact__collection", "linked_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("portfolio__project__entity")

    def registry_check(self, obj, actor):
        registry.check_may_unlink(link=obj, actor=actor)

    def registry_delete(self, obj, actor):
        registry.artifact_unlink(link=obj, actor=actor)

    def deletion_order(self, queryset):
        # Oldest first, so that `latest` moves once per model, onto a link that stays.
        return queryset.order_by("portfolio_id", "version_index")


@admin.register(AliasMove)
class AliasMoveAdmin(_ReadOnlyAdmin):
    """The registry's audit trail: listed, never edited or deleted (as AuditEvent)."""

    def has_delete_permission(self, request, obj=None):
        return False

    list_display = [
        "portfolio_name",
        "entity",
        "alias",
        "from_version_index",
        "to_version_index",
        "moved_by_name",
        "moved_at",
    ]
    list_filter = ["alias"]
    search_fields = ["portfolio_name", "entity__name", "alias", "moved_by_name"]
    list_select_related = ["entity"]
