"""API-key authentication: HTTP Basic with user "api" and the key as the password (what the wandb
client sends), or `Authorization: Bearer <key>`. The key's user becomes `request.user`, so the
same access helpers as the browser views decide what the request may see and do.

Wrong keys are counted per client address in the shared cache: past API_KEY_FAILURES_PER_MINUTE
the address gets 429 (`ApiKeyThrottled`) for the rest of the minute, before any key is looked
up, a right one included, since a limit that let right keys through would still answer every
guess. Right keys are never counted. The JSON API renders the 429 itself (api/v1.py); for the
wandb endpoints api.middleware does."""

import binascii
from base64 import b64decode

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import Throttled
from ninja.security import HttpBasicAuth, HttpBearer

from accounts.models import ApiKey
from teamsite.lib.throttle import FailureLimit, client_address

BASIC_USERNAME = "api"
# Keys are a few dozen characters; anything far longer is not one and is not hashed.
MAX_KEY_LENGTH = 200


def _scheme_and_credentials(request: HttpRequest) -> tuple[str, str]:
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    return scheme.lower(), credentials.strip()


class ApiKeyThrottled(Throttled):
    """Too many wrong keys from this address: 429 with Retry-After."""

    def __init__(self, wait: int):
        super().__init__(wait)
        self.message = f"Too many failed API key attempts; try again in {wait} s."


def _failure_limit() -> FailureLimit:
    return FailureLimit("api-key-failures", limit=settings.API_KEY_FAILURES_PER_MINUTE)


def _authenticate(request: HttpRequest, raw_key: str):
    if not raw_key:
        return None
    failures, address = _failure_limit(), client_address(request)
    wait = failures.retry_after(address)
    if wait:
        raise ApiKeyThrottled(wait)
    user = None
    if len(raw_key) <= MAX_KEY_LENGTH:
        user = ApiKey.objects.get_user_for_key(raw_key)
    if user is None:
        failures.record_failure(address)
        return None
    request.user = user
    return user


class ApiKeyBasic(HttpBasicAuth):
    """HTTP Basic, user "api", the API key as the password."""

    # Ninja's base classes parse the header leniently and, with DEBUG on, log unexpected
    # headers, key included; these read it themselves and log nothing.
    def __call__(self, request: HttpRequest):
        scheme, credentials = _scheme_and_credentials(request)
        if scheme != "basic":
            return None
        try:
            decoded = b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
        return self.authenticate(request, username, password)

    def authenticate(self, request: HttpRequest, username: str, password: str):
        if username != BASIC_USERNAME:
            return None
        return _authenticate(request, password)


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer <API key>`."""

    def __call__(self, request: HttpRequest):
        scheme, credentials = _scheme_and_credentials(request)
        if scheme != "bearer":
            return None
        return self.authenticate(request, credentials)

    def authenticate(self, request: HttpRequest, token: str):
        return _authenticate(request, token)


api_key_auth = [ApiKeyBasic(), ApiKeyBearer()]
