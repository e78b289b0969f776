"""Browser tests: headless Debian Chromium driven by Playwright against pytest-django's live_server.

Playwright's own browser download is never used (`playwright install` cannot run here); the
tests launch the system Chromium, /usr/bin/chromium or $CHROMIUM_PATH. Without it they are
skipped, unless REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from .chromium import CHROMIUM, CHROMIUM_ARGS

# Playwright's sync API keeps an asyncio event loop running in the main thread, and Django's ORM
# refuses to run in a thread with a running loop (SynchronousOnlyOperation) unless this variable
# is set: see "Asynchronous support -> Async safety" in Django's docs. Tests only, never production.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
# BROWSER_LATENCY_MS=300 delays every request of every page: a test that acts before a page's
# scripts have run (htmx not yet bound, a chart not yet drawn) fails every time instead of
# now and then on a busy machine.
LATENCY_MS = int(os.environ.get("BROWSER_LATENCY_MS", "0"))
HERE = Path(__file__).parent


def chromium_missing_reason():
    if shutil.which(CHROMIUM) is None:
        return f"Chromium not found at {CHROMIUM} (install Debian's chromium or set CHROMIUM_PATH)"
    return None


def pytest_collection_modifyitems(config, items):
    # This hook sees the whole session's items: touch only the tests in this folder.
    missing = chromium_missing_reason()
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            if missing and not REQUIRE_BROWSER:
                item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    missing = chromium_missing_reason()
    if missing:  # only reached with REQUIRE_BROWSER=1: the tests are skipped otherwise
        pytest.fail(f"REQUIRE_BROWSER=1 but {missing}", pytrace=False)
    # Extend pytest-playwright's defaults, so --slowmo and friends still apply.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server):
    """page.goto("/path/") goes to the test server."""
    return live_server.url


@pytest.fixture(autouse=True)
def _links_to_live_server(settings, live_server):
    # Emailed links and the team URL preview are built from SITE_URL.
    settings.SITE_URL = live_server.url


@pytest.fixture
def browser_errors():
    """Console errors (CSP violations land there) and uncaught exceptions of every page."""
    errors = []
    yield errors
    assert errors == [], "the browser reported errors"


def _record(errors, message):
    if message.type == "error":
        errors.append(f"{message.text} ({message.location['url']})")


@pytest.fixture
def new_context(new_context, browser_errors):
    """Every browser context of a test (`context`, `page` and the extra ones a test opens) accepts
    data-confirm dialogs and reports its console errors to `browser_errors`."""

    def create(**kwargs):
        context = new_context(**kwargs)
        context.on("dialog", lambda dialog: dialog.accept())
        context.on("console", lambda message: _record(browser_errors, message))
        context.on("weberror", lambda error: browser_errors.append(str(error.error)))
        if LATENCY_MS:
            context.on("page", _slow_network)
        return context

    return create


def _slow_network(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    conditions = {"latency": LATENCY_MS, "downloadThroughput": -1, "uploadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})


@pytest.fixture
def login(live_server):
    """Sign a browser context in as `user` without the sign-in form (a server-side session)."""

    def sign_in(context, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])

    return sign_in
