"""API keys of the cast (tests/personas.py), for the machine API tests."""

import pytest

from tests.factories import api_key_for


@pytest.fixture
def alice_key(alice):
    return api_key_for(alice)


@pytest.fixture
def bob_key(bob):
    return api_key_for(bob)


@pytest.fixture
def charlie_key(charlie):
    return api_key_for(charlie)
