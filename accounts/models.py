import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from teamsite.lib.tokens import hash_token

# The wandb client accepts an optional prefix ending in a dash, then at least 40 letters,
# digits or underscores. 24 random bytes as hex give 48 characters (192 bits); with that much
# entropy a plain SHA-256 is a safe stored form and keeps a lookup to one index probe.
API_KEY_PREFIX = "ts-"
API_KEY_SHOWN_CHARS = 8


class User(AbstractUser):
    # A service account is a bot of one team: it has no password and no email, and signs in
    # only with an API key.
    is_service = models.BooleanField(default=False)

    class Meta:
        db_table = "accounts_user"

    def __str__(self):
        return self.username

    @property
    def display_name(self):
        return self.get_full_name() or self.username


LAST_USED_PRECISION = timedelta(minutes=1)


class ApiKeyQuerySet(models.QuerySet):
    def get_user_for_key(self, raw_key: str):
        """The active user owning this key, or None; records the time the key was used."""
        api_key = (
            self.select_related("user")
            .filter(key_hash=hash_token(raw_key), user__is_active=True)
            .first()
        )
        if api_key is None:
            return None
        now = timezone.now()
        # A running client calls every few seconds; a minute's precision saves a write each time.
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
            self.filter(pk=api_key.pk).update(last_used_at=now)
        return api_key.user


class ApiKey(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    label = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=20, help_text="The first characters, to recognise the key."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.prefix}… ({self.label})"

    @classmethod
    def create_for(cls, *, user, label: str) -> tuple["ApiKey", str]:
        """Create a key; the raw key is returned once and never stored."""
        raw_key = API_KEY_PREFIX + secrets.token_hex(24)
        api_key = cls.objects.create(
            user=user,
            label=label,
            prefix=raw_key[: len(API_KEY_PREFIX) + API_KEY_SHOWN_CHARS],
            key_hash=hash_token(raw_key),
        )
        return api_key, raw_key
