from django.contrib import admin

from teamsite.lib.durations import human_duration

from .models import Alert, Run, RunFile, SavedView
from .stored_bytes import run_files_delete
from .trash import runs_purge_by_operator


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["run_id", "name", "project", "author", "state", "created_at", "human_runtime"]
    list_filter = [
        "state",
        "project__entity__kind",
        "created_at",
        ("trashed_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["run_id", "name", "project__name", "project__entity__name", "author__username"]
    list_select_related = ["project__entity", "author"]
    # Moving a run between projects goes through the site's Move, which checks both sides.
    readonly_fields = [
        "project",
        "run_id",
        "author",
        "created_at",
        # Kept by the client's stream.
        "metadata",
        "history_line_count",
        "events_line_count",
        "console_line_count",
        "human_runtime",
        # The trash is changed through the site's Delete and Restore, which audit it.
        "trashed_at",
        "trashed_by",
        "trashed_with_project",
    ]
    # Kept by the client's stream too; shown as a duration rather than a float of seconds.
    exclude = ["runtime"]
    show_full_result_count = False

    def get_queryset(self, request):
        # Runs in the trash too: operators find every row.
        return Run.with_trashed.all()

    # The admin's delete is for good (its page says so), audited, and frees the stored files.
    def delete_model(self, request, obj):
        runs_purge_by_operator(actor=request.user, runs=Run.with_trashed.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        runs_purge_by_operator(actor=request.user, runs=queryset)

    @admin.display(description="Runtime", ordering="runtime")
    def human_runtime(self, run):
        return human_duration(run.runtime) or None


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "level", "run", "created_at", "notified"]
    list_filter = ["level", "notified", "created_at"]
    search_fields = ["title", "text", "run__run_id", "run__project__name"]
    list_select_related = ["run__project__entity"]
    readonly_fields = ["run", "created_at", "notified"]


@admin.register(RunFile)
class RunFileAdmin(admin.ModelAdmin):
    list_display = ["name", "run", "size", "uploaded_at"]
    search_fields = ["name", "run__run_id"]
    list_select_related = ["run__project__entity"]
    # Uploaded by the client; the stored bytes and their digest are not edited by hand.
    readonly_fields = ["run", "name", "storage_name", "size", "md5", "created_at", "uploaded_at"]

    def delete_model(self, request, obj):
        run_files_delete(RunFile.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        run_files_delete(queryset)


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "project", "owner", "shared", "updated_at"]
    list_filter = ["kind", "shared"]
    search_fields = ["name", "project__name", "project__entity__name", "owner__username"]
    list_select_related = ["project__entity", "owner"]
    # Who owns a view and where it lives decide who sees it: changed through the site only.
    readonly_fields = ["key", "project", "owner", "kind", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False  # a view is saved from the page whose state it keeps
