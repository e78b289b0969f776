from django.contrib import admin

from .models import Run


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["run_id", "name", "project", "author", "state", "created_at", "runtime"]
    list_filter = ["state", "project__entity__kind", "created_at"]
    search_fields = ["run_id", "name", "project__name", "project__entity__name", "author__username"]
    list_select_related = ["project__entity", "author"]
    # Moving a run between projects goes through the site's Move, which checks both sides.
    readonly_fields = ["project", "run_id", "author", "created_at"]
    show_full_result_count = False
