"""Admin pages. Membership changes and user deletions go through the same services as the site,
so the admin cannot leave a team without a human admin: a refused deletion is listed as
"protected" on the confirmation page, and a refused role change is a form error."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from accounts.admin import UserAdmin

from . import services
from .models import (
    AuditEvent,
    Entity,
    EntityGroupObjectPermission,
    EntityUserObjectPermission,
    Invitation,
    Membership,
    Role,
)

User = get_user_model()


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "is_default", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class EntityForm(forms.ModelForm):
    name = forms.CharField(max_length=39, help_text="A new team, with you as its admin. Permanent.")

    class Meta:
        model = Entity
        fields = ["is_private"]

    def clean_name(self):
        return services.validate_entity_name(self.cleaned_data["name"].strip().lower())


@admin.register(Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_private", "created_at"]
    list_filter = ["kind", "is_private"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            # `name` is a field declared on the form: the model field is not editable, so
            # naming it in the form factory's fields would raise FieldError.
            kwargs.update(form=EntityForm, fields=EntityForm._meta.fields)
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return (
            ["name", "kind", "user", "is_private", "created_at"] if obj else ["name", "is_private"]
        )

    def get_readonly_fields(self, request, obj=None):
        return ["name", "kind", "user", "created_at"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            services.entity_set_privacy(entity=obj, is_private=obj.is_private, actor=request.user)
            return
        team = services.team_create(name=form.cleaned_data["name"], creator=request.user)
        obj.pk, obj.name, obj.kind = team.pk, team.name, team.kind
        services.entity_set_privacy(entity=team, is_private=obj.is_private, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        # Deleting an entity takes its projects and runs with it; not an admin click.
        return False


class MembershipForm(forms.ModelForm):
    role = forms.ChoiceField(choices=Role.human_choices())

    class Meta:
        model = Membership
        fields = ["entity", "user", "role"]

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if self.instance.pk and role and role != Role.ADMIN:
            try:
                services.check_keeps_human_admin(self.instance.entity, losing=self.instance)
            except services.TeamError as error:
                raise ValidationError(str(error)) from error
        return cleaned


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "entity", "role", "is_default", "created_at"]
    list_filter = ["role", "entity__kind", "is_default"]
    search_fields = ["user__username", "user__email", "entity__name"]
    list_select_related = ["user", "entity"]
    autocomplete_fields = ["entity", "user"]

    def get_readonly_fields(self, request, obj=None):
        if obj and obj.role == Role.SERVICE:
            return ["entity", "user", "role", "is_default", "created_at"]
        return ["entity", "user", "is_default", "created_at"] if obj else []

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("entity", "user")

    def save_model(self, request, obj, form, change):
        if change:
            if "role" in form.changed_data:
                services.membership_set_role(membership=obj, role=obj.role, actor=request.user)
        else:
            obj.pk = services.membership_add(
                entity=obj.entity, user=obj.user, role=obj.role, actor=request.user
            ).pk

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for membership in objs:
            try:
                services.check_keeps_human_admin(membership.entity, losing=membership)
                if not membership.entity.is_team:
                    raise services.TeamError(f"{membership} is a personal entity's own membership.")
            except services.TeamError as error:
                protected.append(str(error))
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        services.membership_remove(membership=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            services.membership_remove(membership=membership, actor=request.user)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "entity", "role", "inviter", "status", "created_at", "expires_at"]
    list_filter = ["role", "entity"]
    search_fields = ["email", "entity__name", "inviter__username"]
    list_select_related = ["entity", "inviter"]
    readonly_fields = [
        "entity",
        "email",
        "role",
        "inviter",
        "created_at",
        "sent_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        # The secret link exists only where the invite flow shows it (site, `manage.py invite`).
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke selected invitations")
    def revoke(self, request, queryset):
        for invitation in queryset.filter(accepted_at__isnull=True):
            services.invitation_revoke(invitation=invitation, actor=request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EntityUserObjectPermission)
class EntityUserObjectPermissionAdmin(ReadOnlyAdmin):
    """Shown to audit who may do what; never edited, since roles derive them (services)."""

    list_display = ["user", "content_object", "permission"]
    list_filter = ["permission__codename", "content_object__kind"]
    search_fields = ["user__username", "content_object__name"]
    list_select_related = ["user", "content_object", "permission"]


@admin.register(EntityGroupObjectPermission)
class EntityGroupObjectPermissionAdmin(ReadOnlyAdmin):
    list_display = ["group", "content_object", "permission"]
    list_filter = ["permission__codename"]
    search_fields = ["group__name", "content_object__name"]
    list_select_related = ["group", "content_object", "permission"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "entity", "actor_name", "verb", "target"]
    list_filter = ["verb", "entity__kind"]
    search_fields = ["entity__name", "actor_name", "target"]
    list_select_related = ["entity"]
    date_hierarchy = "created_at"


# A person's deletion must not leave a team without a human admin.
admin.site.unregister(User)


@admin.register(User)
class TeamsiteUserAdmin(UserAdmin):
    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A person's personal entity and their object permissions go with them, though neither
        # can be deleted on its own in the admin.
        for model in [Entity, EntityUserObjectPermission]:
            perms_needed.discard(model._meta.verbose_name)
        for user in objs:
            protected.extend(services.user_delete_refusals(user))
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        services.user_delete(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            services.user_delete(user=user)
