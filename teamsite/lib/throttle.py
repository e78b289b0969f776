"""Failure limits per client address, counted in the shared cache (the database or Redis), so
every web process sees the same counts."""

import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

# An IPv6 client usually holds a whole /64: count it as one address, as allauth does.
IPV6_PREFIX = 64


def client_ip(request: HttpRequest) -> str:
    """The client's IP address ("" when there is none): REMOTE_ADDR, or, behind a proxy the
    settings trust (USE_X_FORWARDED_FOR), the last address in X-Forwarded-For, the one that
    proxy added.

    Never the first: a proxy appends to whatever the client sent, so the first address is the
    client's own choice, and with it an attacker could escape every limit, or spend someone
    else's."""
    ip = request.META.get("REMOTE_ADDR", "")
    if settings.USE_X_FORWARDED_FOR:
        ip = request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1].strip() or ip
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return ""


def client_address(request: HttpRequest) -> str:
    """The address limits are counted under: the client's IP, an IPv6 one cut to its /64."""
    ip = client_ip(request)
    if not ip:
        return "unknown"
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False).network_address)
    return str(address)


@dataclass(frozen=True)
class FailureLimit:
    """At most `limit` failures per address in a window of `window` seconds that starts at the
    first failure; then the address waits until the window ends. Successes are never counted."""

    name: str
    limit: int
    window: int = 60

    def _keys(self, address: str) -> tuple[str, str]:
        count = f"throttle:{self.name}:{address}"
        return count, f"{count}:until"

    def retry_after(self, address: str) -> int:
        """Seconds until `address` may try again: 0 when it is not blocked. One cache read."""
        if not self.limit:
            return 0
        count_key, until_key = self._keys(address)
        values = cache.get_many([count_key, until_key])
        if values.get(count_key, 0) < self.limit:
            return 0
        until = values.get(until_key)
        return max(1, math.ceil(until - time.time())) if until else self.window

    def record_failure(self, address: str) -> None:
        count_key, until_key = self._keys(address)
        if cache.add(count_key, 0, self.window):
            cache.set(until_key, time.time() + self.window, self.window)
        try:
            cache.incr(count_key)
        except ValueError:  # the window ended between the two calls: this failure starts one
            if cache.add(count_key, 1, self.window):
                cache.set(until_key, time.time() + self.window, self.window)
