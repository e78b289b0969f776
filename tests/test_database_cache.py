"""The database cache (settings without REDIS_URL): `incr()` is atomic and keeps the expiry."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache, caches
from django.db import connection, connections

from teamsite.lib.cache import DatabaseCache


def expires_of(key):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT expires FROM teamsite_cache WHERE cache_key = %s", [cache.make_key(key)]
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_default_cache_is_a_database_table():
    assert isinstance(caches["default"], DatabaseCache)
    cache.set("greeting", "hello", 30)
    assert caches.create_connection("default").get("greeting") == "hello"


@pytest.mark.django_db
def test_incr_keeps_the_expiry():
    cache.add("count", 0, 30)
    expires = expires_of("count")

    assert [cache.incr("count"), cache.incr("count", 5)] == [1, 6]
    assert cache.get("count") == 6
    assert expires_of("count") == expires


@pytest.mark.django_db
def test_incr_of_a_missing_or_expired_key_is_an_error():
    with pytest.raises(ValueError):
        cache.incr("missing")
    cache.set("gone", 1, -1)
    with pytest.raises(ValueError):
        cache.incr("gone")


@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_are_all_counted():
    cache.add("hits", 0, 60)
    start = threading.Barrier(4)

    def hit(_):
        start.wait()
        try:
            for _ in range(10):
                cache.incr("hits")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(hit, range(4)))

    assert cache.get("hits") == 40
