"""Static files go out compressed: in production from collectstatic's hashed copies, cached for
good; under `make run` (DEBUG) from the collected copy while it is current, else the source."""

import os
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponse

from teamsite.lib.staticfinders import NODE_MODULES, PACKAGED_ASSETS, PackagedAssetFinder
from teamsite.lib.staticserve import StaticFilesMiddleware

SCRIPT = "document.title = 'Teamsite';\n" * 200
FAR_FUTURE = "max-age=315360000, public, immutable"


@pytest.fixture
def collected(settings, tmp_path):
    """A source folder with js/app.js, collected (hashed and compressed) into STATIC_ROOT."""
    source = tmp_path / "source"
    (source / "js").mkdir(parents=True)
    (source / "js" / "app.js").write_text(SCRIPT)
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    return source / "js" / "app.js"


def get(rf, url):
    middleware = StaticFilesMiddleware(lambda request: HttpResponse(status=404))
    response = middleware(rf.get(url, HTTP_ACCEPT_ENCODING="gzip, br"))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    # As Django's test client does: closing sends request_finished, whose database clean-up
    # is not this test's business (no database here).
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    return response, body


def test_production_serves_hashed_names_compressed_and_cached_for_good(settings, rf, collected):
    settings.DEBUG = False
    settings.WHITENOISE_AUTOREFRESH = False
    settings.WHITENOISE_USE_FINDERS = False
    url = staticfiles_storage.url("js/app.js")
    assert url != "/static/js/app.js"

    response, body = get(rf, url)

    assert response.status_code == 200
    assert response["Content-Encoding"] in {"gzip", "br"}
    assert len(body) < len(SCRIPT) / 10
    assert response["Cache-Control"] == FAR_FUTURE


def test_make_run_serves_the_collected_copy_compressed(settings, rf, collected):
    settings.DEBUG = True
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True
    assert staticfiles_storage.url("js/app.js") == "/static/js/app.js"

    response, body = get(rf, "/static/js/app.js")

    assert response.status_code == 200
    assert response["Content-Encoding"] in {"gzip", "br"}
    assert len(body) < len(SCRIPT) / 10


def test_make_run_serves_an_edited_source_file_at_once(settings, rf, collected):
    settings.DEBUG = True
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True
    edited = SCRIPT.replace("Teamsite", "Edited!!")  # the same size
    collected.write_text(edited)
    later = os.stat(collected).st_mtime + 5
    os.utime(collected, (later, later))

    response, body = get(rf, "/static/js/app.js")

    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert body == edited.encode()


def test_the_plotly_bundles_are_found_in_the_installed_npm_packages():
    finder = PackagedAssetFinder()

    for path in ("vendor/plotly.min.js", "vendor/plotly-cartesian.min.js"):
        found = Path(finder.find(path))
        assert found.is_relative_to(NODE_MODULES)
        assert found.read_bytes().startswith(b"/**\n* plotly.js")
    assert finder.find("vendor/README.md") is None
    assert finder.check() == []
    assert sorted(f"vendor/{name}" for name, _ in finder.list([])) == sorted(PACKAGED_ASSETS)


def test_a_missing_npm_package_is_a_check_error_that_says_what_to_run(monkeypatch, tmp_path):
    monkeypatch.setitem(PACKAGED_ASSETS, "vendor/plotly.min.js", tmp_path / "plotly.min.js")
    finder = PackagedAssetFinder()

    errors = finder.check()

    assert [error.id for error in errors] == ["teamsite.E001"]
    assert errors[0].obj == "vendor/plotly.min.js" and "npm ci" in errors[0].hint
    assert finder.find("vendor/plotly.min.js") is None
    assert "plotly.min.js" not in [name for name, _ in finder.list([])]
