"""Limits and sessions hold across web processes: two real gunicorn servers on one test
database, requests alternating between them (with one Host, as behind a load balancer), and the
limits trip at the configured count over both. Once with the cache in the database (the
default), once in Redis (REDIS_URL)."""

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
from base64 import b64encode
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.db import connection

from accounts.models import ApiKey

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        importlib.util.find_spec("gunicorn") is None, reason="gunicorn is not installed"
    ),
]

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = [sys.executable, "-m", "gunicorn", "teamsite.wsgi"]
QUIET = ["--no-control-socket", "--log-level", "warning"]
# Behind a load balancer every process sees the same Host; allauth's keys include it.
HOST = {"Host": "localhost"}
API_KEY_LIMIT = 4
TOO_MANY_LOGINS = "Too many failed login attempts"


def database_url() -> str:
    """The test database, as DATABASE_URL for the servers."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text()[-3000:]}")
        try:
            requests.get(url + "/accounts/login/", headers=HOST, timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def redis_url() -> str:
    """A Redis database of this test process's own (xdist runs several), emptied."""
    redis = pytest.importorskip("redis")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw-1")
    number = 10 + int(worker.removeprefix("gw")) % 6
    url = f"redis://127.0.0.1:6379/{number}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.ConnectionError:
        pytest.skip("no Redis server at 127.0.0.1:6379")
    return url


class ServerUrls(list):
    def __init__(self, cache_url: str | None):
        super().__init__()
        self.cache_url = cache_url


@pytest.fixture(autouse=True)
def _empty_redis_cache(servers):
    # The test process's cache is emptied for every test (conftest.py); the servers' Redis is not.
    if servers.cache_url:
        import redis

        redis.Redis.from_url(servers.cache_url).flushdb()


@pytest.fixture(scope="module", params=["database cache", "redis cache"])
def servers(request, django_db_setup, tmp_path_factory):
    """Two gunicorn servers, one process each, on the test database; their base URLs."""
    tmp_path = tmp_path_factory.mktemp("servers")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.server_settings",
        "DATABASE_URL": database_url(),
        "DEBUG": "1",  # static files without collectstatic
        "API_KEY_FAILURES_PER_MINUTE": str(API_KEY_LIMIT),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    if request.param == "redis cache":
        env["REDIS_URL"] = redis_url()
    urls = ServerUrls(cache_url=env.get("REDIS_URL"))
    processes, logs = [], []
    try:
        for n in range(2):
            port = free_port()
            logs.append(tmp_path / f"server{n}.log")
            with logs[-1].open("w") as log:
                processes.append(
                    subprocess.Popen(
                        [*GUNICORN, "-b", f"127.0.0.1:{port}", "--workers", "1", *QUIET],
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
        for url, process, log in zip(urls, processes, logs, strict=True):
            wait_until_serving(url, process, log)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wrong_password(session: requests.Session, url: str) -> str:
    session.headers.update(HOST)
    page = session.get(url + "/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        url + "/accounts/login/",
        {"csrfmiddlewaretoken": token, "login": "alice", "password": "wrong-password"},
        timeout=10,
    )
    assert response.status_code == 200, response.text[-2000:]
    return response.text


def test_wrong_passwords_are_counted_across_processes(servers, alice):
    session = requests.Session()
    pages = [wrong_password(session, servers[n % 2]) for n in range(6)]

    # 5 per (address, account): the sixth, over both processes, is refused.
    assert [TOO_MANY_LOGINS in page for page in pages] == [False] * 5 + [True]


def test_wrong_api_keys_are_counted_across_processes(servers, alice):
    _, key = ApiKey.create_for(user=alice, label="ci")
    wrong = {**HOST, "Authorization": "Basic " + b64encode(b"api:ts-" + b"0" * 48).decode()}
    right = {**HOST, "Authorization": "Basic " + b64encode(f"api:{key}".encode()).decode()}
    body = {"query": "query Viewer { viewer { id } }"}

    assert requests.post(servers[0] + "/graphql", json=body, headers=right).status_code == 200
    statuses = [
        requests.post(servers[n % 2] + "/graphql", json=body, headers=wrong).status_code
        for n in range(API_KEY_LIMIT + 1)
    ]
    assert statuses == [401] * API_KEY_LIMIT + [429]

    blocked = requests.post(servers[1] + "/graphql", json=body, headers=wrong)
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert blocked.json()["errors"][0]["message"].startswith("Too many failed API key attempts")
    api = requests.get(servers[0] + "/api/v1/projects/alice/x/runs", headers=wrong)
    assert api.status_code == 429 and api.json()["detail"].startswith("Too many failed")


def test_a_session_started_on_one_process_is_valid_on_the_other(servers, alice):
    alice.set_password("right-password")
    alice.save()
    session = requests.Session()
    session.headers.update(HOST)
    page = session.get(servers[0] + "/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    signed_in = session.post(
        servers[0] + "/accounts/login/",
        {"csrfmiddlewaretoken": token, "login": "alice", "password": "right-password"},
        timeout=10,
        allow_redirects=False,
    )
    assert signed_in.status_code == 302

    profile = session.get(servers[1] + "/accounts/email/", timeout=10, allow_redirects=False)

    assert profile.status_code == 200
    assert "alice" in profile.text
