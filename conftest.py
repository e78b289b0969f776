import pytest
from django.core.cache import cache

# The environment the settings read is set in pytest.ini (pytest-env), before Django loads.

pytest_plugins = ["tests.personas", "tests.s3"]


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
def _empty_cache(request):
    # allauth's rate limits and the API-key throttle live in the cache; tests must not see each
    # other's. The cache is a database table: only tests that use the database can touch it,
    # and those that commit (live servers) leave rows that a flush does not remove.
    database = next((f for f in ("transactional_db", "db") if f in request.fixturenames), None)
    if database is None and request.node.get_closest_marker("django_db") is None:
        yield
        return
    if database:
        request.getfixturevalue(database)
    cache.clear()
    yield
    cache.clear()
