"""Secrets the site must read back (a webhook's signing secret and address), stored encrypted.

Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`): a stolen database dump, or a
copy of a table, reveals nothing without the key. The keys come from SECRETS_ENCRYPTION_KEYS
(Fernet keys, the first encrypts, all decrypt: add a new key first to rotate), or, when unset,
one is derived from SECRET_KEY (changing SECRET_KEY then makes the stored secrets unreadable:
set SECRETS_ENCRYPTION_KEYS before rotating it)."""

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import checks


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys decrypts."""


def _derived_key(secret_key: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"teamsite secretbox").derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(key)


@cache
def _box(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    fernets = [Fernet(key) for key in keys] or [Fernet(_derived_key(secret_key))]
    return MultiFernet(fernets)


def check_keys(**kwargs) -> list[checks.Error]:
    """A system check: a key that is not a Fernet key would fail every webhook."""
    errors = []
    for index, key in enumerate(settings.SECRETS_ENCRYPTION_KEYS):
        try:
            Fernet(key)
        except ValueError:
            errors.append(
                checks.Error(
                    f"SECRETS_ENCRYPTION_KEYS item {index + 1} is not a Fernet key.",
                    hint='Generate one: python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"',
                    id="teamsite.E002",
                )
            )
    return errors


def _current_box() -> MultiFernet:
    return _box(tuple(settings.SECRETS_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return _current_box().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current_box().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted: SECRETS_ENCRYPTION_KEYS (or SECRET_KEY) "
            "changed since it was saved."
        ) from None
