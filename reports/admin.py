from django.contrib import admin

from .models import Report, ReportBlock, ReportShareLink, ReportVersion


class ReportBlockInline(admin.TabularInline):
    """The draft's blocks, as the editor left them: changed through the editor only, where
    their settings are checked."""

    model = ReportBlock
    fields = ["position", "kind", "config"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReportVersionInline(admin.TabularInline):
    """Published versions are history: never edited."""

    model = ReportVersion
    fields = ["number", "title", "published_by", "published_at", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReportShareLinkInline(admin.TabularInline):
    """View-only links, for the record: made and revoked on the report's Share page, where
    both are audited."""

    model = ReportShareLink
    fields = ["label", "created_by", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    inlines = [ReportBlockInline, ReportVersionInline, ReportShareLinkInline]
    list_display = ["title", "project", "visibility", "created_by", "created_at", "updated_at"]
    list_select_related = ["project", "created_by"]
    search_fields = ["title", "key", "project__name", "project__entity__name"]
    raw_id_fields = ["project", "created_by"]
    readonly_fields = ["key", "created_at", "updated_at"]
