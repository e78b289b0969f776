"""The load balancer's probes: /healthz (the process answers) and /readyz (the database, the
cache and the file storage answer)."""

import json
import logging

import pytest
from django.core.cache import caches
from django.db import OperationalError, connections
from django.test import Client

SECRET = "db.internal:5432 password=hunter2"
READY = {"database": "ok", "cache": "ok", "storage": "ok"}


def test_healthz_answers_without_the_database(client):
    # No `db` fixture: any database access here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_opens_no_session_and_sets_no_cookie(client, alice, django_assert_num_queries):
    # Even for a signed-in browser: its session is never read, nothing is written back.
    client.force_login(alice)
    with django_assert_num_queries(0):
        response = client.get("/healthz")
        head = client.head("/healthz")
    assert response.status_code == 200
    assert head.status_code == 200
    assert head.content == b""
    assert not response.cookies
    assert "Set-Cookie" not in response.headers


@pytest.mark.django_db
def test_readyz_is_ok_on_the_configured_database_cache_and_storage(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == READY
    assert not response.cookies
    assert "no-store" in response["Cache-Control"]
    # The probe file is gone again.
    probes = settings.MEDIA_ROOT / "_readyz"
    assert not probes.exists() or not any(probes.iterdir())


@pytest.mark.django_db
def test_readyz_leaves_no_probe_key_in_the_cache(client):
    cache = caches["default"]
    cache.set("kept", 1)
    assert client.get("/readyz").status_code == 200
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT cache_key FROM teamsite_cache")
        assert [key for (key,) in cursor.fetchall() if "readyz" in key] == []
    assert cache.get("kept") == 1


def refuse(*args, **kwargs):
    raise OperationalError(f"could not connect to {SECRET}")


def assert_unready(response, failing, reason="unavailable"):
    assert response.status_code == 503
    assert response.json() == {**READY, **dict.fromkeys(failing, reason)}
    body = response.content.decode()
    assert "hunter2" not in body and "Traceback" not in body and "/" not in body


@pytest.mark.django_db
def test_readyz_names_an_unreachable_database(client, monkeypatch, caplog):
    # Undone before the test's own cleanup, which needs the database.
    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING, "teamsite.health"):
        patch.setattr(connections["default"], "cursor", refuse)
        response = client.get("/readyz")
    # The cache lives in the database here: it fails with it.
    assert_unready(response, ["database", "cache"])
    assert "Readiness check of the database failed" in caplog.text


@pytest.mark.django_db
def test_readyz_names_an_unreachable_cache(client, monkeypatch):
    monkeypatch.setattr(caches["default"], "set", refuse)
    assert_unready(client.get("/readyz"), ["cache"])


@pytest.mark.django_db
def test_readyz_names_a_cache_that_keeps_nothing(client, monkeypatch):
    monkeypatch.setattr(caches["default"], "get", lambda *args, **kwargs: None)
    assert_unready(client.get("/readyz"), ["cache"], "answered wrongly")


@pytest.mark.django_db
def test_readyz_names_unwritable_storage(client, settings, tmp_path):
    # MEDIA_ROOT is a file, not a folder (a wrong path in the settings, say): nothing can be
    # saved there, and the path must not show in the answer.
    blocked = tmp_path / "media"
    blocked.write_text("not a folder")
    settings.MEDIA_ROOT = blocked
    assert_unready(client.get("/readyz"), ["storage"])


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_probes_answer_only_get_and_head(path, method):
    # A real client's POST carries no CSRF token: it still gets 405, not 403.
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(path, json.dumps({}), content_type="application/json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301  # the setting applies to pages
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_probes_answer_a_balancer_that_names_the_process_by_its_address(client):
    # Balancers probe by the target's IP, which ALLOWED_HOSTS need not list.
    assert client.get("/", headers={"host": "10.0.0.5"}).status_code == 400
    assert client.get("/healthz", headers={"host": "10.0.0.5"}).status_code == 200
    assert client.get("/readyz", headers={"host": "10.0.0.5"}).status_code == 200
