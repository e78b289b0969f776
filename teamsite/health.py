"""Probes for a load balancer or an orchestrator.

`/healthz` says the process answers: it touches nothing (no database, cache, session or storage),
so a slow database never makes a balancer restart healthy web processes. `/readyz` says this
process can serve: the database, the shared cache and the file storage answer.

Both are plain GET/HEAD without login, CSRF token, session or cookies; settings exempt them from
the HTTPS redirect (SECURE_REDIRECT_EXEMPT), since a balancer probes over plain HTTP inside the
network.
"""

import logging
import uuid

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# What a failed check says: generic on purpose, never the error itself (it may hold a host, a
# path or a key). The server's log has the error.
UNAVAILABLE = "unavailable"
WRONG_VALUE = "answered wrongly"

# The cache keeps the probe value no longer than a probe takes, should its delete fail.
CACHE_PROBE_SECONDS = 30
# Probe files live under their own prefix, away from run and artifact files.
STORAGE_PROBE_PREFIX = "_readyz/"


def _probe(func):
    # Exempt from CSRF so that a POST gets the honest 405, not a 403 about a missing token.
    # never_cache: a proxy between the balancer and the process must not answer for it.
    return csrf_exempt(never_cache(require_safe(func)))


@_probe
def healthz(request):
    return JsonResponse({"status": "ok"})


def check_database() -> str:
    # A connection that fails to open fails after the driver's connect timeout (settings:
    # DB_CONNECT_TIMEOUT on PostgreSQL); SELECT 1 itself takes no lock.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return "ok" if cursor.fetchone() == (1,) else WRONG_VALUE


def check_cache() -> str:
    # A key of its own per probe: probes from many processes never wait on each other's row.
    key = f"readyz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, CACHE_PROBE_SECONDS)
    try:
        return "ok" if cache.get(key) == value else WRONG_VALUE
    finally:
        cache.delete(key)


def check_storage() -> str:
    """Write a tiny file and delete it. A read (exists()) would prove little on local disk,
    where an unwritable MEDIA_ROOT (read-only, full, not a folder) answers "no such file" like
    a healthy one; a write catches that, and on S3-compatible storage it is one PUT and one
    DELETE, with the rights the site needs anyway."""
    name = default_storage.save(f"{STORAGE_PROBE_PREFIX}{uuid.uuid4().hex}", ContentFile(b"readyz"))
    default_storage.delete(name)
    return "ok"


CHECKS = {"database": check_database, "cache": check_cache, "storage": check_storage}


@_probe
def readyz(request):
    results = {}
    for component, check in CHECKS.items():
        # Any failure means "not ready", whatever raised it: the balancer needs a 503, not a 500.
        try:
            results[component] = check()
        except Exception as error:
            logger.warning("Readiness check of the %s failed: %r", component, error)
            results[component] = UNAVAILABLE
        else:
            if results[component] != "ok":
                logger.warning("Readiness check of the %s: %s", component, results[component])
    ready = all(result == "ok" for result in results.values())
    return JsonResponse(results, status=200 if ready else 503)


class ProbeMiddleware:
    """Answers the probes before anything reads the Host header: balancers and orchestrators
    probe a process by its own address (an AWS target group, a Kubernetes kubelet), which
    ALLOWED_HOSTS need not list. Nothing in either answer depends on the host. First in
    MIDDLEWARE; every other path goes on as usual."""

    PROBES = {"/healthz": healthz, "/readyz": readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = self.PROBES.get(request.path_info)
        return probe(request) if probe else self.get_response(request)
