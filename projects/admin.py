from django import forms
from django.contrib import admin

from teams.admin import EntityAdmin
from teams.models import Entity

from . import services
from .models import Project


class ProjectAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        if self.instance.is_restricted and cleaned.get("visibility") == Project.Visibility.PUBLIC:
            self.add_error("visibility", services.RESTRICTED_NOT_PUBLIC)
        return cleaned


class InTrashFilter(admin.SimpleListFilter):
    title = "in trash"
    parameter_name = "in_trash"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(trashed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(trashed_at__isnull=True)
        return queryset


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    form = ProjectAdminForm
    list_display = [
        "name",
        "entity",
        "visibility",
        "is_restricted",
        "created_by",
        "created_at",
        "trashed_at",
    ]
    list_filter = [
        InTrashFilter,
        "visibility",
        "is_restricted",
        "entity__kind",
        "entity__is_private",
    ]
    search_fields = ["name", "entity__name", "description"]
    list_select_related = ["entity", "created_by"]
    # Who may see a restricted project is changed on its settings page, by the team's admins.
    readonly_fields = [
        "entity",
        "name",
        "is_restricted",
        "created_by",
        "created_at",
        "trashed_at",
        "trashed_by",
    ]
    fields = [
        "entity",
        "name",
        "description",
        "visibility",
        "is_restricted",
        "created_by",
        "created_at",
        "trashed_at",
        "trashed_by",
    ]

    def get_queryset(self, request):
        # The site's operators see the projects in the trash too.
        return Project.with_trashed.select_related("entity", "created_by")

    def has_add_permission(self, request):
        # Projects are created on the site or by logging runs, where membership is checked.
        return False

    def save_model(self, request, obj, form, change):
        services.project_update(
            project=obj, actor=request.user, description=obj.description, visibility=obj.visibility
        )

    # The admin's delete is for good, as it says (audited), not a move to the trash.
    def delete_model(self, request, obj):
        services.project_purge(project=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for project in queryset.select_related("entity"):
            services.project_purge(project=project, actor=request.user)


# Turning a team's privacy on in the admin makes its projects team-only, as on the site.
admin.site.unregister(Entity)


@admin.register(Entity)
class EntityWithProjectsAdmin(EntityAdmin):
    def save_model(self, request, obj, form, change):
        if change:
            services.team_privacy_set(team=obj, is_private=obj.is_private, actor=request.user)
            return
        super().save_model(request, obj, form, change)
