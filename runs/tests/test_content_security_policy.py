"""The Content Security Policy of the pages with charts (and of the rest): nothing on them may
send data off the site, load from elsewhere, or be framed."""

import pytest

from tests.factories import ProjectFactory, RunFactory

REQUIRED = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "connect-src": {"'self'"},
    "form-action": {"'self'"},
    "img-src": {"'self'", "data:", "blob:"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'self'"},
    "object-src": {"'none'"},
}


def policy(response) -> dict[str, set[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    return RunFactory(project=project, author=alice, run_id="r1")


@pytest.mark.parametrize("which", ["project", "run", "settings"])
def test_pages_allow_no_request_off_the_site(client, bob, run, which):
    client.force_login(bob)
    address = {
        "project": f"/{run.project.path}/",
        "run": run.get_absolute_url(),
        "settings": "/settings/",
    }[which]

    response = client.get(address)

    assert response.status_code == 200
    directives = policy(response)
    for name, sources in REQUIRED.items():
        assert directives.get(name) == sources, name
    # Every source named anywhere is this site, data or blob URLs, 'none' or inline styles.
    allowed = {"'self'", "'none'", "data:", "blob:", "'unsafe-inline'"}
    assert set().union(*directives.values()) <= allowed
    assert directives["style-src"] <= {"'self'", "'unsafe-inline'"}
