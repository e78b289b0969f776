"""The URL matrix (tests/test_url_matrix.py) again, with each side's project restricted.

The same cast, rows and probes, on a world where the project the URLs point at is restricted
(named: erin; not named: bob and the service account sam) and renamed to a name found nowhere
else. Only the probes that name the project (in their URL or their body) are requested. On each:

- a member or viewer who is not named (bob and vera, by session and by API key) gets exactly
  what an outsider with the same kind of credential gets (charlie, by session or key), never
  `ok`, and never the project's name in the answer;
- the team's service account, not named, gets what another team's service account gets;
- named (bob or sam, named within the case), they get what the plain matrix says a member or
  the service account gets on the private team (a restricted project is team-only, whatever
  its team), and the team admin (alice, never named) gets what an admin gets there; except
  where the restriction itself changes the answer (RESTRICTED_CHANGES);
- a refused write changes nothing.
"""

import json

import pytest
from django.db import transaction
from django.test import override_settings

from projects import services as project_services
from projects.models import Project, ProjectMember
from teams.models import Membership
from tests import test_url_matrix as matrix

RESTRICTED_NAME = "restricted-vit-q9"
# (role, named) pairs asked on every probe: the roles that differ from the plain matrix.
CONFIGS = (
    ("member", False),
    ("member_key", False),
    ("service", False),
    ("viewer", False),
    ("viewer_key", False),
    ("member", True),
    ("member_key", True),
    ("service", True),
    ("admin", False),
)
# Whom an unnamed role is compared with: the outsider holding the same kind of credential.
REFERENCE = {
    "member": "outsider",
    "member_key": "outsider_key",
    "viewer": "outsider",
    "viewer_key": "outsider_key",
    "service": "other_service",
}
# What a restricted project changes for those who see it, by (pattern, method, label): only
# admins move runs out of it, so a named member's own move is refused; its reports cannot be
# public (the form says why, on the public team too).
RESTRICTED_CHANGES = {
    ("reports:visibility", "POST", ""): {"admin": "400"},
    ("runs:move", "POST", "own run"): {"member": "refused"},
    ("api-v1:move_runs", "POST", "own run"): {"member_key": "403"},
}


def _names_project(probe, side) -> bool:
    data = probe.data(side) if probe.data is not None else None
    return side.project.name in probe.url(side) + json.dumps(data)


def _cases():
    sides = ("private", "public")
    for key in matrix.PATTERNS:
        for index, probe in enumerate(matrix.ROWS.get(key, ())):
            if probe.any_team:
                continue
            label = f" {probe.label}" if probe.label else ""
            for team in sides:
                for role, named in CONFIGS:
                    state = "named" if named else "unnamed"
                    yield pytest.param(
                        key,
                        index,
                        team,
                        role,
                        named,
                        id=f"{key} {probe.method}{label} {team} {role}_{state}",
                    )


CASES = list(_cases())


@pytest.fixture(scope="module")
def restricted_world(django_db_setup, django_db_blocker, tmp_path_factory):
    media_root = tmp_path_factory.mktemp("restricted-matrix-media")
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        with override_settings(MEDIA_ROOT=media_root, PASSWORD_HASHERS=matrix.FAST_HASHERS):
            w = matrix._build(media_root)
            for name in ("private", "public"):
                side = w.sides[name]
                Project.objects.filter(pk=side.project.pk).update(name=RESTRICTED_NAME)
                side.project.refresh_from_db()
                project_services.project_access_set(
                    project=side.project,
                    actor=w.alice,
                    restricted=True,
                    memberships=[side.erin_membership],
                )
                side.project.refresh_from_db()
                side.public_report.refresh_from_db()
            w.sides["private"].other_sam_key = w.sides["public"].sam_key
            w.sides["public"].other_sam_key = w.sides["private"].sam_key
    yield w
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


def _name(side, user) -> None:
    membership = Membership.objects.get(entity=side.team, user=user)
    ProjectMember.objects.create(project=side.project, membership=membership)


def _client(w, side, role):
    if role == "other_service":
        client, _ = matrix._persona(w, side, "anonymous")
        client.defaults["HTTP_AUTHORIZATION"] = matrix._basic(side.other_sam_key)
        return client, None
    return matrix._persona(w, side, role)


def _outcome(w, side, probe, url, role):
    """(outcome, body) of the probe for the role, its writes rolled back."""
    client, user = _client(w, side, role)
    data = probe.data(side) if probe.data is not None else None
    with transaction.atomic():
        try:
            response = matrix._request(client, probe, url, data)
        except Exception as error:  # a 5xx, with its traceback
            pytest.fail(f"{probe.method} {url} as {role}: server error {error!r}")
        assert response.status_code < 500, f"{probe.method} {url} as {role}"
        body = matrix._body(response)
        got = matrix.classify(response, body, probe, side, user)
        if probe.effect is not None and got != "ok":
            assert not probe.effect(side, user), f"a refused {probe.method} {url} changed data"
        transaction.set_rollback(True)
    return got, body, response


def test_the_probes_that_name_the_project_cover_its_pages_and_the_machine_api(restricted_case):
    side = restricted_case.sides["private"]
    asked = {
        key
        for key, probes in matrix.ROWS.items()
        for probe in probes
        if not probe.any_team and _names_project(probe, side)
    }
    assert {
        "project",
        "projects:settings",
        "runs:detail",
        "reports:list",
        "wandb_graphql",
        "wandb_file_stream",
        "api-v1:move_runs",
    } <= asked


@pytest.fixture
def restricted_case(restricted_world, db, settings):
    settings.MEDIA_ROOT = restricted_world.media_root
    return restricted_world


@pytest.mark.parametrize(("key", "index", "team", "role", "named"), CASES)
def test_restricted_project_matrix(restricted_case, key, index, team, role, named):
    w = restricted_case
    side = w.sides[team]
    probe = matrix.ROWS[key][index]
    if not _names_project(probe, side):
        pytest.skip("the probe does not name the restricted project")
    url = probe.url(side)
    if named:
        _name(side, side.sam if role == "service" else w.bob)
    got, body, response = _outcome(w, side, probe, url, role)
    context = f"{probe.method} {url} as {role} ({'named' if named else 'not named'}, {team})"
    if named or role == "admin":
        # A restricted project is team-only on both teams: the private team's row applies.
        expected = probe.expected("private")[role]
        changes = RESTRICTED_CHANGES.get((key, probe.method, probe.label), {})
        expected = changes.get(role, expected)
        assert got == expected, f"{context}: expected {expected}, got {got} {body[:300]!r}"
        return
    reference, _, _ = _outcome(w, side, probe, url, REFERENCE[role])
    assert got == reference, f"{context}: got {got}, an outsider gets {reference} {body[:300]!r}"
    if key not in matrix.CREDENTIAL_LINKS:
        assert got != "ok", f"{context}: reached the restricted project"
    sent = url + json.dumps(probe.data(side) if probe.data is not None else None)
    if not (RESTRICTED_NAME in sent and 400 <= response.status_code < 500):
        assert RESTRICTED_NAME not in body, f"{context}: the answer names the project"
