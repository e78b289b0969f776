"""Sign-up, email verification, sign-in, password reset, email change and sign-out, through
django-allauth's own pages as a person would use them."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from teams.models import Entity, Membership, Role
from tests.factories import PASSWORD, TeamFactory, UserFactory

User = get_user_model()

SIGNUP_URL = "/accounts/signup/"
LOGIN_URL = "/accounts/login/"
NEW_PASSWORD = "another-long-password-42"


def signup_data(**overrides):
    return {
        "email": "dana@example.com",
        "username": "dana",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def link_in(message, path_prefix):
    """The path of the first http://testserver link in the email's text that starts with it."""
    match = re.search(rf"http://testserver({re.escape(path_prefix)}\S*)", message.body)
    assert match, message.body
    return match.group(1)


def is_logged_in(client):
    return SESSION_KEY in client.session


@pytest.fixture
def signup(client, django_capture_on_commit_callbacks):
    def post(**overrides):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(SIGNUP_URL, signup_data(**overrides))

    return post


# Sign-up


@pytest.mark.django_db
def test_signup_page_renders_the_four_fields(client):
    response = client.get(SIGNUP_URL)

    assert response.status_code == 200
    for field in ["email", "username", "password1", "password2"]:
        assert f'name="{field}"' in response.text


@pytest.mark.django_db
def test_signup_creates_the_user_with_a_personal_entity_that_is_the_default(signup):
    response = signup()

    assert response.status_code == 302
    user = User.objects.get(username="dana")
    assert user.email == "dana@example.com"
    assert user.check_password(PASSWORD)
    assert not user.is_service
    entity = Entity.objects.get(user=user)
    assert (entity.name, entity.kind) == ("dana", Entity.Kind.USER)
    membership = Membership.objects.get(user=user)
    assert membership.entity == entity
    assert membership.role == Role.ADMIN
    assert membership.is_default
    assert user.has_perm("teams.admin_entity", entity)


@pytest.mark.django_db
def test_signup_lowercases_the_username_and_the_entity_name(signup):
    signup(username="Dana")

    user = User.objects.get()
    assert user.username == "dana"
    assert user.personal_entity.name == "dana"


@pytest.mark.django_db
def test_signup_leaves_the_person_signed_out_until_the_email_is_verified(client, signup):
    response = signup()

    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    assert not is_logged_in(client)
    assert not EmailAddress.objects.get(email="dana@example.com").verified


@pytest.mark.django_db
def test_signup_sends_a_verification_email_whose_link_verifies_and_signs_in(client, signup):
    signup()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dana@example.com"]
    assert message.subject.startswith("[Teamsite] ")
    assert "confirm" in message.subject.lower()
    link = link_in(message, "/accounts/confirm-email/")

    page = client.get(link)
    assert page.status_code == 200
    assert "dana@example.com" in page.text
    response = client.post(link)

    assert response.status_code == 302
    assert EmailAddress.objects.get(email="dana@example.com").verified
    assert client.session[SESSION_KEY] == str(User.objects.get(username="dana").pk)
    assert client.get("/settings/").status_code == 200


@pytest.mark.django_db
def test_a_verification_link_with_a_wrong_key_verifies_nothing(client, signup):
    signup()

    client.post("/accounts/confirm-email/not-the-key/")

    assert not EmailAddress.objects.get(email="dana@example.com").verified
    assert not is_logged_in(client)


@pytest.mark.parametrize("taken", ["example-team", "Example-Team", "EXAMPLE-TEAM"])
@pytest.mark.django_db
def test_signup_refuses_a_username_equal_to_a_team_name_in_any_case(signup, taken):
    TeamFactory(name="example-team")
    users_before = User.objects.count()

    response = signup(username=taken)

    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert "taken" in response.text
    assert User.objects.count() == users_before
    assert not EmailAddress.objects.filter(email="dana@example.com").exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_signup_refuses_a_username_equal_to_another_persons_name(signup):
    UserFactory(username="dana", email="first@example.com")

    response = signup(username="DANA")

    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert User.objects.count() == 1


@pytest.mark.parametrize("reserved", ["admin", "api", "settings", "accounts", "Teams", "graphql"])
@pytest.mark.django_db
def test_signup_refuses_a_reserved_word_as_username(signup, reserved):
    response = signup(username=reserved)

    assert response.status_code == 200
    assert "reserved" in " ".join(response.context["form"].errors["username"])
    assert not User.objects.exists()
    assert not Entity.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "bad", ["dana smith", "dana@home", "-dana", "dana-", "dana.s", "d" * 40, "dänä", "x"]
)
@pytest.mark.django_db
def test_signup_refuses_a_username_with_bad_characters_or_length(signup, bad):
    response = signup(username=bad)

    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert not User.objects.exists()
    assert not Entity.objects.exists()
    assert not Membership.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_signup_with_an_email_address_in_use_creates_nobody_and_warns_its_owner(signup):
    UserFactory(username="first", email="dana@example.com")

    response = signup(email="DANA@example.com")

    # allauth does not reveal that the address has an account: the page is the usual
    # "check your email", and the owner gets a notice instead of a verification link.
    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    assert not User.objects.filter(username="dana").exists()
    assert not Entity.objects.filter(name="dana").exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dana@example.com"]
    assert "already exists" in mail.outbox[0].subject.lower()
    assert "/accounts/confirm-email/" not in mail.outbox[0].body


@pytest.mark.django_db
def test_signup_refuses_mismatched_passwords(signup):
    response = signup(password2="something-else-entirely")

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.exists()


# Sign-in and verification


@pytest.mark.django_db
def test_signing_in_before_verifying_gives_no_session_and_resends_the_link(client, signup):
    signup()
    mail.outbox.clear()

    response = client.post(LOGIN_URL, {"login": "dana", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    assert not is_logged_in(client)
    settings_page = client.get("/settings/")
    assert settings_page.status_code == 302
    assert settings_page.url.startswith(LOGIN_URL)


@pytest.mark.django_db
def test_a_verified_person_signs_in_with_username_or_email(client):
    UserFactory(username="erin", email="erin@example.com")

    for login in ["erin", "erin@example.com"]:
        client.logout()
        response = client.post(LOGIN_URL, {"login": login, "password": PASSWORD})
        assert response.status_code == 302, login
        assert response.url == "/"
        assert client.get("/settings/").status_code == 200


@pytest.mark.django_db
def test_signing_in_with_a_wrong_password_is_a_form_error(client):
    UserFactory(username="erin")

    response = client.post(LOGIN_URL, {"login": "erin", "password": "wrong-password"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not is_logged_in(client)


@pytest.mark.django_db
def test_signing_out_ends_the_session(client):
    user = UserFactory(username="erin")
    client.force_login(user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert not is_logged_in(client)
    assert client.get("/settings/").status_code == 302


# Password reset


@pytest.mark.django_db
def test_password_reset_email_link_sets_a_new_password_that_works(
    client, django_capture_on_commit_callbacks
):
    UserFactory(username="erin", email="erin@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "erin@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["erin@example.com"]
    assert message.subject.startswith("[Teamsite] ")
    assert "password" in message.subject.lower()
    link = link_in(message, "/accounts/password/reset/key/")

    # allauth swaps the key in the URL for a session token, then shows the form.
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert 'name="password1"' in form_page.text
    set_password_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    response = client.post(set_password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302

    client.logout()
    old = client.post(LOGIN_URL, {"login": "erin", "password": PASSWORD})
    assert old.status_code == 200
    assert not is_logged_in(client)
    new = client.post(LOGIN_URL, {"login": "erin", "password": NEW_PASSWORD})
    assert new.status_code == 302
    assert is_logged_in(client)


@pytest.mark.django_db
def test_a_password_reset_link_works_once(client, django_capture_on_commit_callbacks):
    UserFactory(username="erin", email="erin@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "erin@example.com"})
    link = link_in(mail.outbox[0], "/accounts/password/reset/key/")
    page = client.get(link, follow=True)
    client.post(page.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    client.logout()

    again = client.get(link, follow=True)

    assert 'name="password1"' not in again.text
    assert User.objects.get(username="erin").check_password(NEW_PASSWORD)


# Email change


@pytest.mark.django_db
def test_changing_the_email_address_takes_effect_once_the_new_address_is_verified(
    client, django_capture_on_commit_callbacks
):
    user = UserFactory(username="erin", email="erin@example.com")
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/email/", {"action_add": "", "email": "erin@new.example.com"}
        )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "erin@example.com"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["erin@new.example.com"]
    link = link_in(mail.outbox[0], "/accounts/confirm-email/")

    client.post(link)

    user.refresh_from_db()
    assert user.email == "erin@new.example.com"
    new_address = EmailAddress.objects.get(user=user, email="erin@new.example.com")
    assert new_address.verified
    assert new_address.primary
    assert not EmailAddress.objects.filter(user=user, email="erin@example.com").exists()


@pytest.mark.django_db
def test_an_email_address_verified_by_another_account_cannot_be_taken_over(
    client, django_capture_on_commit_callbacks
):
    erin = UserFactory(username="erin", email="erin@example.com")
    frank = UserFactory(username="frank", email="frank@example.com")
    client.force_login(frank)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/email/", {"action_add": "", "email": "erin@example.com"})
    # Even if erin follows the link she was sent, the address stays hers alone.
    client.post(link_in(mail.outbox[0], "/accounts/confirm-email/"))

    frank.refresh_from_db()
    assert frank.email == "frank@example.com"
    assert not EmailAddress.objects.filter(user=frank, email="erin@example.com", verified=True)
    assert EmailAddress.objects.get(user=erin, email="erin@example.com").verified


# Service accounts


@pytest.mark.django_db
def test_a_service_account_cannot_sign_in_with_any_password(client, sam):
    assert not sam.has_usable_password()

    for password in ["", "anything", PASSWORD]:
        response = client.post(LOGIN_URL, {"login": sam.username, "password": password})
        assert response.status_code == 200
        assert not is_logged_in(client)


@pytest.mark.django_db
def test_a_service_account_with_a_password_set_still_cannot_sign_in(client, sam):
    # Even if an operator gave the bot a password, password sign-in is for people only.
    sam.set_password(PASSWORD)
    sam.save()

    response = client.post(LOGIN_URL, {"login": sam.username, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == "/accounts/inactive/"
    assert not is_logged_in(client)
    assert client.get("/settings/").status_code == 302


@pytest.mark.django_db
def test_a_service_account_cannot_sign_in_to_the_admin(client, sam):
    sam.set_password(PASSWORD)
    sam.is_staff = True
    sam.save()

    client.post("/admin/login/", {"username": sam.username, "password": PASSWORD})

    assert not is_logged_in(client)


@pytest.mark.django_db
def test_a_service_account_cannot_reset_a_password_because_it_has_no_email(
    client, sam, django_capture_on_commit_callbacks
):
    assert sam.email == ""
    assert not EmailAddress.objects.filter(user=sam).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert mail.outbox == []


def test_account_emails_wait_for_the_worker_in_production(transactional_db, client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    UserFactory(username="erin", email="erin@example.com")

    response = client.post("/accounts/password/reset/", {"email": "erin@example.com"})

    assert response.status_code == 302
    assert mail.outbox == []  # not sent while the visitor waits
    assert DBTaskResult.objects.get().task_path == "teamsite.lib.emails.send_email"
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--no-periodic-jobs")
    assert [message.to for message in mail.outbox] == [["erin@example.com"]]
    assert mail.outbox[0].subject.startswith("[Teamsite] ")
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
