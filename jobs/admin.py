from django.contrib import admin

from .models import PeriodicJob


@admin.register(PeriodicJob)
class PeriodicJobAdmin(admin.ModelAdmin):
    list_display = ["name", "next_run_at", "last_started_at", "last_finished_at", "last_error"]
    readonly_fields = ["name", "last_started_at", "last_finished_at", "last_error"]
    search_fields = ["name"]

    def has_add_permission(self, request):
        # Rows are made by the scheduler from the jobs defined in code.
        return False
