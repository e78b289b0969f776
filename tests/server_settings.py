"""Settings of the servers tests start in their own processes (tests/test_shared_limits.py): the
site's, with the fast password hasher of the test setup (conftest.py)."""

from teamsite.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
