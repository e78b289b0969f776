"""Schemathesis against the JSON API's own OpenAPI document, in process through the WSGI app:
generated requests to every operation, authenticated with an API key, never answer 5xx and
answer what the document promises."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from projects.services import project_create
from runs.models import Run
from teamsite.wsgi import application

from .test_graphql import basic

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class _Undo(Exception):
    pass


@pytest.fixture
def keep_connection():
    # As Django's test client does: a request through the WSGI app would otherwise close the
    # connection that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def runs(team, alice, keep_connection):
    demo = project_create(entity=team, name="demo", creator=alice)
    project_create(entity=team, name="other", creator=alice)
    return [
        Run.objects.create(project=demo, author=alice, run_id=f"run-{n}", runtime=n)
        for n in range(3)
    ]


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_keeps_its_documented_contract(case, runs, alice_key):
    headers = {"Authorization": basic(alice_key)}
    try:
        with transaction.atomic():
            case.call_and_validate(headers=headers, checks=CHECKS)
            raise _Undo
    except _Undo:
        pass
    if not case.path_parameters:
        return
    # Made-up names mostly meet a 404: the same case again on the project that exists, so the
    # generated bodies and queries reach the code behind the lookup.
    case.path_parameters = {**case.path_parameters, **EXISTING}
    try:
        with transaction.atomic():
            case.call_and_validate(headers=headers, checks=CHECKS)
            raise _Undo
    except _Undo:
        pass


EXISTING = {"entity": "example-team", "project": "demo"}
