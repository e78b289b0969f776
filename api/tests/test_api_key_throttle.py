"""Wrong API keys are counted per client address in the shared cache: past
API_KEY_FAILURES_PER_MINUTE the address gets 429 JSON with Retry-After on every machine endpoint
(GraphQL, file_stream, the JSON API), before any key is looked up. Right keys are never counted."""

from base64 import b64encode

import pytest
from django.core.cache import caches

from teamsite.lib.throttle import FailureLimit

pytestmark = pytest.mark.django_db

LIMIT = 3
ATTACKER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"
VIEWER = {"query": "query Viewer { viewer { id entity } }"}
WRONG_KEY = "ts-" + "0" * 48
TOO_MANY = "Too many failed API key attempts; try again in "


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.API_KEY_FAILURES_PER_MINUTE = LIMIT


def basic(key):
    return {"Authorization": "Basic " + b64encode(f"api:{key}".encode()).decode()}


@pytest.fixture
def call(client):
    """One request to an endpoint, by name, with a key, from an address."""

    def call(endpoint, key, address=ATTACKER, **extra):
        kwargs = {"headers": basic(key), "REMOTE_ADDR": address, **extra}
        if endpoint == "graphql":
            return client.post("/graphql", VIEWER, content_type="application/json", **kwargs)
        if endpoint == "file_stream":
            url = "/files/example-team/resnet/nosuchrun/file_stream"
            return client.post(url, {}, content_type="application/json", **kwargs)
        return client.get("/api/v1/projects/example-team/resnet/runs", **kwargs)

    return call


def assert_throttled(response, body_key="errors"):
    assert response.status_code == 429, response.content
    assert response["Content-Type"].startswith("application/json")
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 60
    message = f"{TOO_MANY}{wait} s."
    if body_key == "errors":
        assert response.json()["errors"] == [{"message": message}]
    else:
        assert response.json() == {"detail": message}


@pytest.mark.parametrize("endpoint", ["graphql", "file_stream", "api"])
def test_an_address_that_sends_too_many_wrong_keys_gets_429(call, endpoint):
    for _ in range(LIMIT):
        assert call(endpoint, WRONG_KEY).status_code == 401

    assert_throttled(call(endpoint, WRONG_KEY), "detail" if endpoint == "api" else "errors")


def test_wrong_keys_count_across_every_endpoint(call):
    assert call("graphql", WRONG_KEY).status_code == 401
    assert call("file_stream", WRONG_KEY).status_code == 401
    assert call("api", WRONG_KEY).status_code == 401

    assert_throttled(call("graphql", WRONG_KEY))
    assert_throttled(call("file_stream", WRONG_KEY))
    assert_throttled(call("api", WRONG_KEY), "detail")


def test_a_blocked_address_is_refused_before_any_key_is_looked_up(
    call, team, alice_key, django_assert_num_queries
):
    for _ in range(LIMIT):
        call("graphql", WRONG_KEY)

    # One read of the cache; no key hashed and looked up, the right one included: a block
    # that let right keys through would still answer every guess.
    with django_assert_num_queries(1):
        assert_throttled(call("graphql", alice_key))


def test_other_addresses_are_not_blocked(call, team, alice_key):
    for _ in range(LIMIT + 2):
        call("graphql", WRONG_KEY)

    assert call("graphql", alice_key, address=NEIGHBOUR).status_code == 200
    assert call("graphql", WRONG_KEY, address=NEIGHBOUR).status_code == 401


def test_right_keys_are_never_counted(call, team, alice_key):
    for _ in range(10):
        assert call("graphql", alice_key).status_code == 200
    for _ in range(LIMIT):
        assert call("graphql", WRONG_KEY).status_code == 401

    assert call("graphql", alice_key).status_code == 429


def test_requests_without_a_key_are_not_counted(client, team):
    for _ in range(LIMIT + 2):
        response = client.post(
            "/graphql", VIEWER, content_type="application/json", REMOTE_ADDR=ATTACKER
        )
        assert response.status_code == 401


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(call, settings):
    # By default X-Forwarded-For is the client's own text: ignored.
    for n in range(LIMIT):
        call("graphql", WRONG_KEY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert_throttled(call("graphql", WRONG_KEY, HTTP_X_FORWARDED_FOR="192.0.2.99"))

    # Behind the proxy every request comes from its address; the client is the last one it
    # added, whatever the client put first.
    settings.USE_X_FORWARDED_FOR = True
    proxy = {"address": "10.0.0.1"}
    for n in range(LIMIT):
        forwarded = f"192.0.2.{n}, {NEIGHBOUR}"
        call("graphql", WRONG_KEY, **proxy, HTTP_X_FORWARDED_FOR=forwarded)
    blocked = call("graphql", WRONG_KEY, **proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {NEIGHBOUR}")
    assert_throttled(blocked)
    assert call("graphql", WRONG_KEY, **proxy, HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 401


def test_ipv6_clients_are_counted_per_64_network(call):
    for n in range(LIMIT):
        call("graphql", WRONG_KEY, address=f"2001:db8:1:2::{n + 1}")

    assert_throttled(call("graphql", WRONG_KEY, address="2001:db8:1:2:ffff::9"))
    assert call("graphql", WRONG_KEY, address="2001:db8:1:3::1").status_code == 401


def test_the_count_lives_in_the_database_cache_every_process_reads(call):
    for _ in range(LIMIT):
        call("graphql", WRONG_KEY)

    other = caches.create_connection("default")  # as another web process would open
    assert other.get(f"throttle:api-key-failures:{ATTACKER}") == LIMIT
    assert FailureLimit("api-key-failures", limit=LIMIT).retry_after(ATTACKER) > 0
