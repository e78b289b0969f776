"""django-allauth hooks. They live in `teams` because a username is also an entity name: sign-up
must check the shared namespace and create the personal entity in the same transaction."""

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError
from django.db import transaction

from . import services
from .models import entity_name_validator


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username, shallow=False):
        # Entity names are lowercase; "Dana" signs up as dana.
        username = super().clean_username(username.strip().lower(), shallow=shallow)
        try:
            if shallow:
                entity_name_validator(username)
            else:
                services.validate_entity_name(username)
        except ValidationError as error:
            raise ValidationError(error.messages) from error
        return username

    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                services.personal_entity_create(user=user)
        return user

    def pre_login(self, request, user, **kwargs):
        if getattr(user, "is_service", False):
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)
