"""Every absolute link the site hands out (emails, the copyable invitation link, the demo
invitation, the team URL preview) starts with SITE_URL, which `make run` derives from PORT."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

SITE_URL = "http://127.0.0.1:8101"
ABSOLUTE_LINK = re.compile(r"https?://[^\s\"'<>]+")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE_URL


def links_in(text):
    return ABSOLUTE_LINK.findall(text)


def test_invitation_email_and_copyable_link_use_site_url(
    client, team, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("teams:invite", args=[team.name]),
            {"email": "dana@example.com", "role": "member"},
            follow=True,
        )

    assert response.status_code == 200
    [message] = mail.outbox
    [(html, _)] = message.alternatives
    [copyable] = set(
        re.findall(r"http://127\.0\.0\.1:8101/invitations/[\w-]+/", str(response.content))
    )
    assert copyable in message.body
    assert f'href="{copyable}"' in html
    for text in [message.body, html]:
        assert links_in(text)
        assert all(link.startswith(f"{SITE_URL}/") or link == SITE_URL for link in links_in(text))


@pytest.mark.django_db
def test_demo_invitation_link_uses_site_url(django_capture_on_commit_callbacks, capsys):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo_data")

    [line] = [line for line in capsys.readouterr().out.splitlines() if "carol@example.com" in line]
    assert re.search(rf"{re.escape(SITE_URL)}/invitations/[\w-]+/$", line)
    assert SITE_URL in mail.outbox[0].body


def test_team_url_preview_uses_site_url(client, alice):
    client.force_login(alice)

    page = client.get(reverse("teams:create")).content.decode()

    assert f'data-url-preview="{SITE_URL}/&lt;name&gt;/"' in page
    assert ":8000" not in page
