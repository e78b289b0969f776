from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import ApiKey, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_service",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_service", "is_staff", "is_superuser", "is_active"]
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Teamsite", {"fields": ["is_service"]}))
    readonly_fields = ["is_service"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "label", "user", "created_at", "last_used_at"]
    list_filter = ["user__is_service", "created_at"]
    search_fields = ["prefix", "label", "user__username"]
    list_select_related = ["user"]
    # Keys are created in settings or with `manage.py create_api_key`, where the raw key is shown.
    readonly_fields = ["user", "prefix", "label", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False
