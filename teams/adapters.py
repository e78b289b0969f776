"""django-allauth hooks. They live in `teams` because a username is also an entity name: sign-up
must check the shared namespace and create the personal entity in the same transaction."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError
from django.db import transaction

from teamsite.lib.emails import enqueue_email
from teamsite.lib.throttle import client_address, client_ip

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

    def send_mail(self, template_prefix, email, context):
        # As allauth's, but the message goes out through the email task (retried, off the
        # request) instead of being sent while the visitor waits.
        request = allauth_context.request
        context = {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            **context,
        }
        enqueue_email(self.render_mail(template_prefix, email, context))

    def pre_login(self, request, user, **kwargs):
        if getattr(user, "is_service", False):
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)

    def get_client_ip(self, request):
        # One notion of the client's address for every limit (USE_X_FORWARDED_FOR).
        return client_ip(request) or super().get_client_ip(request)

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth's "key" limit on wrong passwords (settings.ACCOUNT_RATE_LIMITS) counts per
        # login name alone, so anyone could lock an account's owner out by failing on purpose.
        # Counted per (address, login) instead: the owner's address keeps its own count. Also
        # the key a password reset clears, from the address the reset is made.
        login = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{client_address(request)}:{login}"
