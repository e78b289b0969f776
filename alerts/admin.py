from django.contrib import admin

from .models import AlertDelivery, AlertEvent, AlertRule, Webhook


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "kind", "metric", "muted", "snoozed_until", "created_by"]
    list_filter = ["kind", "muted"]
    search_fields = ["name", "metric", "project__name", "project__entity__name"]
    list_select_related = ["project", "created_by"]
    raw_id_fields = ["project", "created_by", "baseline_run", "baseline_portfolio"]
    readonly_fields = ["created_at"]


class AlertDeliveryInline(admin.TabularInline):
    """The delivery log of an alert: written by the delivery task only."""

    model = AlertDelivery
    fields = ["channel", "target", "status", "attempts", "last_error", "created_at", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):
    inlines = [AlertDeliveryInline]
    list_display = ["fired_at", "rule_name", "run", "project", "value"]
    list_select_related = ["project", "run"]
    search_fields = ["rule_name", "message", "run__run_id", "project__name"]
    raw_id_fields = ["project", "rule", "run"]
    readonly_fields = ["fired_at"]
    date_hierarchy = "fired_at"


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """A team's webhooks, to look at and to delete. Adding one needs its secret shown to the
    team (the team's Webhooks page); the address and the secret, stored encrypted, are never
    shown."""

    list_display = ["name", "entity", "format", "url_hint", "client_alerts", "created_at"]
    list_filter = ["format", "client_alerts"]
    list_select_related = ["entity"]
    search_fields = ["name", "entity__name", "url_hint"]
    fields = [
        "entity",
        "key",
        "name",
        "format",
        "url_hint",
        "client_alerts",
        "created_by",
        "created_at",
    ]
    readonly_fields = ["entity", "key", "url_hint", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False
