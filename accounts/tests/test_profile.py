"""The profile page: a person edits their first and last name."""

import pytest
from django.urls import reverse

PROFILE_URL = reverse("accounts:profile")

pytestmark = pytest.mark.django_db


def test_profile_shows_username_email_and_the_name_form(client, alice):
    client.force_login(alice)

    response = client.get(PROFILE_URL)

    assert response.status_code == 200
    assert "alice" in response.text
    assert "alice@example.com" in response.text
    assert 'name="first_name"' in response.text
    assert 'name="last_name"' in response.text


def test_saving_the_profile_stores_first_and_last_name(client, alice):
    client.force_login(alice)

    response = client.post(
        PROFILE_URL, {"first_name": "Alice", "last_name": "Liddell"}, follow=True
    )

    assert response.redirect_chain == [(PROFILE_URL, 302)]
    assert "Your profile was saved." in response.text
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("Alice", "Liddell")
    assert alice.display_name == "Alice Liddell"


def test_the_profile_form_cannot_change_username_email_or_flags(client, alice):
    client.force_login(alice)

    client.post(
        PROFILE_URL,
        {
            "first_name": "Alice",
            "last_name": "",
            "username": "mallory",
            "email": "mallory@example.com",
            "is_staff": "on",
            "is_superuser": "on",
            "is_service": "on",
        },
    )

    alice.refresh_from_db()
    assert alice.first_name == "Alice"
    assert alice.username == "alice"
    assert alice.email == "alice@example.com"
    assert not (alice.is_staff or alice.is_superuser or alice.is_service)


def test_a_name_over_150_characters_is_a_form_error(client, alice):
    client.force_login(alice)

    response = client.post(PROFILE_URL, {"first_name": "A" * 151, "last_name": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["first_name"]
    alice.refresh_from_db()
    assert alice.first_name == ""


def test_names_can_be_cleared(client, alice):
    alice.first_name, alice.last_name = "Alice", "Liddell"
    alice.save()
    client.force_login(alice)

    client.post(PROFILE_URL, {"first_name": "", "last_name": ""})

    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("", "")
    assert alice.display_name == "alice"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in [client.get(PROFILE_URL), client.post(PROFILE_URL, {"first_name": "X"})]:
        assert response.status_code == 302
        assert response.url == f"/accounts/login/?next={PROFILE_URL}"


def test_changing_the_password_in_settings_keeps_the_session_and_takes_the_new_password(
    client, alice
):
    client.force_login(alice)
    page = client.get(reverse("account_change_password"))
    assert page.status_code == 200
    assert "Teams and default entity" in page.text  # the settings sidebar frames allauth's page

    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": "a-long-test-password",
            "password1": "n3w-secret-pass",
            "password2": "n3w-secret-pass",
        },
    )

    assert response.status_code == 302
    assert client.get(PROFILE_URL).status_code == 200  # still signed in
    alice.refresh_from_db()
    assert alice.check_password("n3w-secret-pass")


def test_a_wrong_current_password_changes_nothing(client, alice):
    client.force_login(alice)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "wrong", "password1": "n3w-secret-pass", "password2": "n3w-secret-pass"},
    )

    assert response.status_code == 200
    assert "oldpassword" in response.context["form"].errors
    alice.refresh_from_db()
    assert alice.check_password("a-long-test-password")
