import pytest
from django.core.cache import cache

# The environment the settings read is set in pytest.ini (pytest-env), before Django loads.

pytest_plugins = ["tests.personas"]


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No collectstatic before tests: serve the source files without a manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    # Uploaded run and artifact files land in a folder of the test's own.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _empty_cache():
    # allauth keeps rate limits (e.g. one confirmation email per address per few minutes) in the
    # cache; tests must not see each other's.
    cache.clear()
    yield
    cache.clear()
