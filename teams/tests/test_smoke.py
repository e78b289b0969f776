import re

import pytest
from django.core import mail


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/settings/",
        "/settings/api-keys/",
        "/settings/teams/",
        "/settings/teams/new/",
        "/settings/teams/example-team/leave/",
        "/teams/example-team/settings/",
        "/teams/example-team/members/",
        "/teams/example-team/service-accounts/",
        "/teams/example-team/members/bob/remove/",
        "/accounts/email/",
        "/accounts/password/change/",
    ],
)
def test_admin_pages_render(client, team, alice, sam, path):
    client.force_login(alice)
    assert client.get(path).status_code == 200


def test_flow(client, team, alice, charlie, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/teams/example-team/members/invite/",
            {"email": "charlie@example.com", "role": "member"},
        )
    assert r.status_code == 200, r.content
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/invitations/\S+/)", mail.outbox[0].body).group(1)
    client.force_login(charlie)
    assert client.get(link).status_code == 200
    r = client.post(link)
    assert r.status_code == 302
    r = client.get("/")
    assert b"example-team" in r.content
    for path in ["/teams/example-team/service-accounts/"]:
        client.force_login(alice)
        r = client.post(path + "new/", {"name": "ci"})
        assert r.status_code == 200
        assert b"ts-" in r.content
    r = client.post("/settings/api-keys/", {"label": "laptop"})
    assert r.status_code == 200
    r = client.post(
        "/teams/example-team/members/charlie/role/", {"role": "admin"}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200 and b"<tr" in r.content, r.content
    r = client.get("/teams/example-team/service-accounts/")
    assert b"ci" in r.content
