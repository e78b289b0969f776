"""Wrong passwords are limited per client address and per (address, account) pair, in the shared
database cache, so that nobody can lock an account's owner out by failing on purpose."""

import pytest
from django.core.cache import caches
from django.db import connection

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"
TOO_MANY = "Too many failed login attempts"


def sign_in(client, login, password, address):
    return client.post(LOGIN_URL, {"login": login, "password": password}, REMOTE_ADDR=address)


def refused_as_too_many(response):
    return response.status_code == 200 and TOO_MANY in response.text


def signed_in(response):
    return response.status_code == 302 and response.url == "/"


def test_attacker_cannot_lock_the_owner_out(client, alice):
    for _ in range(5):
        response = sign_in(client, "alice", "wrong-password", ATTACKER)
        assert response.status_code == 200 and not refused_as_too_many(response)

    # The attacker's address is done with this account, even with the right password...
    assert refused_as_too_many(sign_in(client, "alice", PASSWORD, ATTACKER))
    # ...while alice, from her own address, signs in at once.
    assert signed_in(sign_in(client, "alice", PASSWORD, OWNER))


def test_the_owner_fails_a_few_times_while_an_attacker_hammers_the_account(client, alice):
    for _ in range(6):
        sign_in(client, "alice", "wrong-password", ATTACKER)
    for _ in range(4):
        assert not refused_as_too_many(sign_in(client, "alice", "wrong-password", OWNER))

    assert signed_in(sign_in(client, "alice", PASSWORD, OWNER))


def test_an_address_gets_twenty_wrong_passwords_in_ten_minutes_whatever_the_accounts(client):
    for n in range(20):
        assert not refused_as_too_many(sign_in(client, f"nobody{n}", "wrong-password", ATTACKER))

    assert refused_as_too_many(sign_in(client, "nobody-else", "wrong-password", ATTACKER))
    assert not refused_as_too_many(sign_in(client, "nobody-else", "wrong-password", OWNER))


def test_email_and_username_of_one_account_are_counted_apart_per_address(client, alice):
    # allauth's key is the login as typed (lowercased); both stay within the per-address limit.
    for _ in range(5):
        sign_in(client, "alice", "wrong-password", ATTACKER)

    assert refused_as_too_many(sign_in(client, "ALICE", "wrong-password", ATTACKER))
    assert not refused_as_too_many(sign_in(client, "alice@example.com", "wrong", ATTACKER))


def test_a_successful_sign_in_is_not_counted_and_does_not_forgive_earlier_failures(client):
    UserFactory(username="erin")
    for _ in range(4):
        sign_in(client, "erin", "wrong-password", OWNER)

    assert signed_in(sign_in(client, "erin", PASSWORD, OWNER))
    client.logout()
    # allauth takes back only the successful attempt: the four failures still count.
    assert not refused_as_too_many(sign_in(client, "erin", "wrong-password", OWNER))
    assert refused_as_too_many(sign_in(client, "erin", PASSWORD, OWNER))


def test_behind_a_trusted_proxy_the_address_it_added_is_the_client(client, alice, settings):
    settings.USE_X_FORWARDED_FOR = True

    for n in range(5):
        # The client chooses the first address; the proxy appends the one it saw.
        sign_in_through_proxy = client.post(
            LOGIN_URL,
            {"login": "alice", "password": "wrong-password"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {ATTACKER}",
        )
        assert not refused_as_too_many(sign_in_through_proxy)

    attacker = client.post(
        LOGIN_URL,
        {"login": "alice", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=f"192.0.2.99, {ATTACKER}",
    )
    owner = client.post(
        LOGIN_URL,
        {"login": "alice", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=OWNER,
    )
    assert refused_as_too_many(attacker)
    assert signed_in(owner)


def test_the_counts_live_in_the_database_cache_every_process_reads(client, alice):
    for _ in range(5):
        sign_in(client, "alice", "wrong-password", ATTACKER)

    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM teamsite_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any(":login_failed:20/600.0/ip:" in key for key in keys)
    # Another cache connection, as another process would open, sees the same limit spent.
    other = caches.create_connection("default")
    assert other is not caches["default"]
    counted = [key.split(":", 2)[2] for key in keys if ":login_failed:5/300.0/key:" in key]
    assert [len(other.get(key)) for key in counted] == [5]
