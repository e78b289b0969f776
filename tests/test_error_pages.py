"""The pages Django shows for 400, 403, 404 and 500, with DEBUG off as in production."""

from urllib.parse import quote

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from tests.factories import ProjectFactory


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


def page(response):
    return response.content.decode()


def test_member_sees_why_admin_page_is_refused(client, team, bob):
    client.force_login(bob)
    response = client.get(reverse("teams:settings", args=["example-team"]))
    assert response.status_code == 403
    html = page(response)
    assert "You need the admin role in example-team." in html
    assert 'class="topbar"' in html  # the site's layout, with its way home
    assert "Sign out (bob)" in html
    assert f'href="{reverse("entity", args=["example-team"])}"' in html


def test_refused_project_settings_link_back_to_the_project(client, team, alice, bob):
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    client.force_login(bob)
    response = client.get(reverse("projects:settings", args=["example-team", "resnet"]))
    assert response.status_code == 403
    html = page(response)
    assert "You cannot admin this project." in html
    assert f'href="{project.get_absolute_url()}"' in html


def test_anonymous_visitor_is_offered_to_sign_in_on_404(client, team, alice):
    ProjectFactory(entity=team, creator=alice, name="resnet")
    path = reverse("project", args=["example-team", "resnet"])
    response = client.get(path)
    assert response.status_code == 404
    html = page(response)
    assert 'class="topbar"' in html
    assert f'href="{reverse("account_login")}?next={quote(path)}"' in html
    assert "No such" not in html  # the exception's message stays private


def test_signed_in_visitor_gets_404_without_sign_in(client, team, alice, charlie):
    ProjectFactory(entity=team, creator=alice, name="resnet")
    client.force_login(charlie)
    response = client.get(reverse("project", args=["example-team", "resnet"]))
    assert response.status_code == 404
    html = page(response)
    assert "Not found" in html
    assert "?next=" not in html
    assert "No such" not in html


def test_404_does_not_echo_the_message_of_a_missing_team(client, charlie):
    client.force_login(charlie)
    response = client.get(reverse("teams:members", args=["secret-team"]))
    assert response.status_code == 404
    assert "No such team" not in page(response)


def test_500_page_renders_without_a_request_or_database():
    html = render_to_string("500.html")
    assert "Server error" in html
    assert 'href="/"' in html


def test_400_page_renders_with_the_layout(rf, db):
    request = rf.get("/")
    html = render_to_string("400.html", request=request)
    assert "Bad request" in html
    assert 'class="topbar"' in html
