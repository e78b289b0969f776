from django.contrib import admin

from .models import Sweep, SweepAgent, SweepRun


class ReadOnlyAdmin(admin.ModelAdmin):
    """Sweeps change through the client and the sweep page (services keep slots, agents and
    counters consistent); the admin shows them and may delete them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Sweep)
class SweepAdmin(ReadOnlyAdmin):
    list_display = ["name", "project", "method", "state", "points_issued", "created_at"]
    list_filter = ["state", "method"]
    search_fields = ["name", "display_name", "project__name"]
    list_select_related = ["project__entity"]


@admin.register(SweepAgent)
class SweepAgentAdmin(ReadOnlyAdmin):
    list_display = ["name", "sweep", "host", "state", "heartbeat_at"]
    list_filter = ["state"]
    search_fields = ["name", "host", "sweep__name"]
    list_select_related = ["sweep"]


@admin.register(SweepRun)
class SweepRunAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "sweep", "kind", "state", "point_index", "should_stop", "handed_at"]
    list_filter = ["state", "kind"]
    search_fields = ["run_name", "sweep__name"]
    list_select_related = ["sweep"]
    raw_id_fields = ["run", "agent"]
