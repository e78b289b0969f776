"""Secrets stored encrypted: readable back with the configured keys only, and rotatable."""

import pytest
from cryptography.fernet import Fernet

from teamsite.lib.secretbox import SecretUnreadable, check_keys, decrypt, encrypt


def test_a_secret_is_stored_unreadable_and_read_back(settings):
    settings.SECRETS_ENCRYPTION_KEYS = []
    token = encrypt("whsec_abc")
    assert "whsec_abc" not in token
    assert decrypt(token) == "whsec_abc"
    assert encrypt("whsec_abc") != token  # a fresh IV each time


def test_without_keys_the_key_follows_secret_key(settings):
    settings.SECRETS_ENCRYPTION_KEYS = []
    token = encrypt("whsec_abc")
    settings.SECRET_KEY = "another secret key"
    with pytest.raises(SecretUnreadable, match="SECRETS_ENCRYPTION_KEYS"):
        decrypt(token)


def test_keys_rotate_new_first_old_still_read(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SECRETS_ENCRYPTION_KEYS = [old]
    token = encrypt("whsec_abc")
    settings.SECRETS_ENCRYPTION_KEYS = [new, old]
    assert decrypt(token) == "whsec_abc"
    fresh = encrypt("whsec_abc")
    settings.SECRETS_ENCRYPTION_KEYS = [new]
    assert decrypt(fresh) == "whsec_abc"
    with pytest.raises(SecretUnreadable):
        decrypt(token)


def test_a_key_that_is_not_a_fernet_key_is_a_system_check_error(settings):
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "not-a-key"]
    [error] = check_keys()
    assert error.id == "teamsite.E002" and "item 2" in error.msg
