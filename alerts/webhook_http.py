"""Posting to a webhook: the bodies (signed JSON, or a Slack-compatible message), the
signature, and the guarded connection that never reaches a blocked network.

The signature is `Teamsite-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
with the webhook's secret, on every format. Errors name the receiver by scheme and host only:
a chat service's hook keeps its token in the address's path."""

import hashlib
import hmac
import ipaddress
import json
import math
import socket
import time
from functools import cache
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from teamsite.lib.emails import absolute_url

from .models import AlertEvent, Webhook

USER_AGENT = "Teamsite-Webhooks"
ALERT_FIRED = "alert.fired"
WEBHOOK_TEST = "webhook.test"
# (connect, read) seconds.
TIMEOUT = (3, 10)
MAX_ERROR_LENGTH = 2000
RESPONSE_EXCERPT = 200


class DeliveryError(Exception):
    """A post that did not succeed; `transient` when trying again later may succeed."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


class BlockedAddress(Exception):
    """The receiver's address is in WEBHOOK_BLOCKED_NETWORKS."""


@cache
def _networks(specs: tuple[str, ...]):
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)


def is_blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(
        ip in network
        for network in _networks(tuple(settings.WEBHOOK_BLOCKED_NETWORKS))
        if network.version == ip.version
    )


def _resolves_to_blocked(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False  # the connection itself reports the failed lookup
    return any(is_blocked(info[4][0]) for info in infos)


class _GuardedConnectionMixin:
    # Checked when connecting, on the addresses the name resolves to and on the one actually
    # reached: a name that resolves elsewhere on the second lookup is caught all the same.
    def _new_conn(self):
        if _resolves_to_blocked(self._dns_host, self.port):
            raise BlockedAddress
        sock = super()._new_conn()
        if is_blocked(sock.getpeername()[0]):
            sock.close()
            raise BlockedAddress
        return sock


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


def url_hint(url: str) -> str:
    """Scheme, host and port: what pages and errors show of an address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def post(
    *, url: str, secret: str, body: bytes, event_type: str, delivery_id: str, timeout=None
) -> int:
    """Post a signed body; the status of a 2xx answer, else DeliveryError. Redirects are not
    followed: an address that moved is changed by the team, not by the receiver."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Teamsite-Event": event_type,
        "Teamsite-Delivery": delivery_id,
        "Teamsite-Signature": sign(secret, body, int(time.time())),
    }
    hint = url_hint(url)
    try:
        with requests.Session() as session:
            session.mount("http://", _GuardedAdapter())
            session.mount("https://", _GuardedAdapter())
            response = session.post(
                url, data=body, headers=headers, timeout=timeout or TIMEOUT, allow_redirects=False
            )
    except BlockedAddress:
        raise DeliveryError(
            f"{hint} resolves to a blocked network (WEBHOOK_BLOCKED_NETWORKS).", transient=False
        ) from None
    except requests.Timeout:
        raise DeliveryError(f"{hint} did not answer in time.", transient=True) from None
    except requests.ConnectionError as error:
        raise DeliveryError(
            f"Could not connect to {hint}: {_socket_reason(error)}.", transient=True
        ) from None
    except requests.RequestException as error:
        raise DeliveryError(
            f"Could not post to {hint} ({type(error).__name__}).", transient=False
        ) from None
    status = response.status_code
    if 200 <= status < 300:
        return status
    excerpt = _excerpt(response, url, secret)
    message = f"{hint} answered {status} {response.reason or ''}".rstrip() + excerpt
    if 300 <= status < 400:
        raise DeliveryError(message + " (redirects are not followed).", transient=False)
    raise DeliveryError(message + ".", transient=status == 429 or status >= 500)


def _socket_reason(error: BaseException) -> str:
    # The innermost operating-system error says it best ("Connection refused"); the outer ones
    # repeat the whole address, path included.
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.strerror:
            return error.strerror
        if isinstance(error, socket.gaierror):
            return "the name does not resolve"
        inner = getattr(error, "reason", None)
        if not isinstance(inner, BaseException) and error.args:
            inner = error.args[0] if isinstance(error.args[0], BaseException) else None
        error = inner or error.__cause__ or error.__context__
    return "connection failed"


def _excerpt(response, url: str, secret: str) -> str:
    text = response.text[:RESPONSE_EXCERPT].strip()
    path = urlsplit(url).path
    for private in (secret, path if len(path) > 1 else ""):
        if private:
            text = text.replace(private, "…")
    return f": {' '.join(text.split())}" if text else ""


# Bodies


def _number(value: float | None):
    # JSON has no NaN or infinity: those travel as the strings "NaN", "Infinity", "-Infinity".
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def alert_body(webhook: Webhook, event: AlertEvent, *, delivery_id: int) -> bytes:
    """The body an alert is posted with, in the webhook's format. `event` comes with its run,
    project, team and rule."""
    run, project = event.run, event.run.project
    run_url = absolute_url(run.get_absolute_url())
    if webhook.format == Webhook.Format.SLACK:
        return _dumps(_slack_alert(event, run_url))
    rule = event.rule
    return _dumps(
        {
            "type": ALERT_FIRED,
            "id": delivery_id,
            "alert": {
                "id": event.pk,
                "message": event.message,
                "detail": event.detail,
                "level": event.level,
                "value": _number(event.value),
                "fired_at": event.fired_at.isoformat(),
            },
            "rule": {"name": rule.name, "kind": rule.kind, "key": rule.key} if rule else None,
            "source": "run.alert()" if event.client_alert_id else "rule",
            "run": {"id": run.run_id, "name": run.display_name, "url": run_url, "state": run.state},
            "project": {
                "entity": project.entity.name,
                "name": project.name,
                "url": absolute_url(project.get_absolute_url()),
            },
        }
    )


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_alert(event: AlertEvent, run_url: str) -> dict:
    run, project = event.run, event.run.project
    source = "run.alert()" if event.client_alert_id else event.rule_name or "a rule"
    text = (
        f"*{_mrkdwn(event.get_level_display())}* ({_mrkdwn(source)}): {_mrkdwn(event.message)}\n"
        f"Run <{run_url}|{_mrkdwn(run.display_name)}> in {_mrkdwn(project.path)}"
    )
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if event.detail:
        blocks.append(
            {"type": "section", "text": {"type": "plain_text", "text": event.detail[:2900]}}
        )
    return {"text": text, "blocks": blocks}


def probe_body(webhook: Webhook, *, delivery_id: str) -> bytes:
    text = f"A test from Teamsite: webhook {webhook.name} of {webhook.entity.name} works."
    if webhook.format == Webhook.Format.SLACK:
        return _dumps({"text": _mrkdwn(text)})
    return _dumps(
        {
            "type": WEBHOOK_TEST,
            "id": delivery_id,
            "text": text,
            "webhook": {"name": webhook.name, "team": webhook.entity.name},
        }
    )


def _dumps(payload: dict) -> bytes:
    return json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()
