"""The API keys page: a key is shown once, stored only as its hash, listed by its prefix and
revoked by its owner alone."""

import hashlib
import re
import uuid

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import API_KEY_PREFIX, ApiKey
from tests.factories import UserFactory

API_KEYS_URL = reverse("accounts:api_keys")

# What the wandb client accepts (docs/wandb-protocol.md, section 2): an optional prefix that
# ends at the first dash, then at least 40 letters, digits or underscores.
WANDB_KEY_FORMAT = re.compile(r"\A(?:[^-]*-)?[A-Za-z0-9_]{40,}\Z")


pytestmark = pytest.mark.django_db


def revoke_url(api_key):
    return reverse("accounts:revoke_api_key", args=[api_key.pk])


def create_key(client, label="laptop"):
    """POST the form; return the response and the raw key shown in it."""
    response = client.post(API_KEYS_URL, {"label": label})
    return response, response.context.get("raw_key")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_creating_a_key_shows_the_raw_key_once(alice_client, alice):
    response, raw_key = create_key(alice_client, "laptop")

    assert response.status_code == 200
    assert raw_key in response.text
    assert "will not be shown again" in response.text
    api_key = ApiKey.objects.get(user=alice)
    assert api_key.label == "laptop"
    assert raw_key.startswith(api_key.prefix)

    later = alice_client.get(API_KEYS_URL)

    assert raw_key not in later.text
    assert api_key.prefix in later.text
    assert "laptop" in later.text


def test_a_new_key_has_the_format_the_wandb_client_accepts(alice_client):
    _, raw_key = create_key(alice_client)

    assert WANDB_KEY_FORMAT.match(raw_key), raw_key
    assert raw_key.startswith(API_KEY_PREFIX)
    assert len(raw_key.split("-", 1)[1]) >= 40


def test_every_new_key_is_different(alice_client):
    keys = {create_key(alice_client, f"key {n}")[1] for n in range(3)}

    assert len(keys) == 3


def test_only_the_sha256_of_a_key_is_stored(alice_client, alice):
    _, raw_key = create_key(alice_client)

    api_key = ApiKey.objects.get(user=alice)
    assert api_key.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key not in {str(getattr(api_key, f.attname)) for f in ApiKey._meta.concrete_fields}


def test_no_column_of_any_table_holds_the_raw_key(alice_client):
    _, raw_key = create_key(alice_client)
    secret = raw_key[len(API_KEY_PREFIX) :]

    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                assert not any(secret in str(value) for value in row), table


def test_a_created_key_signs_in_its_owner_and_records_its_use(alice_client, alice):
    _, raw_key = create_key(alice_client)

    assert ApiKey.objects.get_user_for_key(raw_key) == alice
    assert ApiKey.objects.get().last_used_at is not None
    assert ApiKey.objects.get_user_for_key(raw_key + "x") is None


def test_the_list_shows_prefix_created_and_last_used(alice_client, alice):
    used, used_raw = ApiKey.create_for(user=alice, label="cluster")
    unused, _ = ApiKey.create_for(user=alice, label="laptop")
    ApiKey.objects.get_user_for_key(used_raw)
    used.refresh_from_db()

    response = alice_client.get(API_KEYS_URL)

    assert response.status_code == 200
    assert list(response.context["api_keys"]) == [unused, used]
    rows = re.findall(r"<tr>(.*?)</tr>", response.text, re.S)
    cells = {
        label: row for row in rows for label in ["cluster", "laptop"] if f"<td>{label}</td>" in row
    }
    assert f"{used.prefix}…" in cells["cluster"]
    assert used.created_at.strftime("%Y-%m-%d %H:%M") in cells["cluster"]
    assert used.last_used_at.strftime("%Y-%m-%d %H:%M") in cells["cluster"]
    assert f"{unused.prefix}…" in cells["laptop"]
    assert "never" in cells["laptop"]


def test_the_list_shows_only_the_users_own_keys(alice_client, bob):
    bobs_key, _ = ApiKey.create_for(user=bob, label="bobs-machine")

    response = alice_client.get(API_KEYS_URL)

    assert bobs_key.prefix not in response.text
    assert "bobs-machine" not in response.text


def test_a_missing_label_is_a_400_with_a_form_error_and_creates_nothing(alice_client):
    response = alice_client.post(API_KEYS_URL, {"label": ""})

    assert response.status_code == 400
    assert response.context["form"].errors["label"] == ["This field is required."]
    assert "This field is required." in response.text
    assert not ApiKey.objects.exists()


def test_a_label_over_100_characters_is_refused(alice_client):
    response = alice_client.post(API_KEYS_URL, {"label": "x" * 101})

    assert response.status_code == 400
    assert response.context["form"].errors["label"]
    assert not ApiKey.objects.exists()


def test_revoking_a_key_deletes_it_and_it_stops_working(alice_client, alice):
    api_key, raw_key = ApiKey.create_for(user=alice, label="laptop")

    response = alice_client.post(revoke_url(api_key), follow=True)

    assert response.redirect_chain == [(API_KEYS_URL, 302)]
    assert "was revoked" in response.text
    assert not ApiKey.objects.filter(pk=api_key.pk).exists()
    assert ApiKey.objects.get_user_for_key(raw_key) is None


def test_a_user_cannot_revoke_someone_elses_key(alice_client, bob):
    bobs_key, raw_key = ApiKey.create_for(user=bob, label="bobs-machine")

    response = alice_client.post(revoke_url(bobs_key))

    assert response.status_code == 404
    assert ApiKey.objects.filter(pk=bobs_key.pk).exists()
    assert ApiKey.objects.get_user_for_key(raw_key) == bob


def test_revoking_a_key_that_does_not_exist_is_404(alice_client):
    response = alice_client.post(reverse("accounts:revoke_api_key", args=[uuid.uuid4()]))

    assert response.status_code == 404


def test_revoke_refuses_get(alice_client, alice):
    api_key, _ = ApiKey.create_for(user=alice, label="laptop")

    response = alice_client.get(revoke_url(api_key))

    assert response.status_code == 405
    assert ApiKey.objects.filter(pk=api_key.pk).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, alice):
    api_key, _ = ApiKey.create_for(user=alice, label="laptop")

    for method, url in [
        ("get", API_KEYS_URL),
        ("post", API_KEYS_URL),
        ("post", revoke_url(api_key)),
    ]:
        response = getattr(client, method)(url, {"label": "stolen"} if method == "post" else None)
        assert response.status_code == 302, url
        assert response.url == f"/accounts/login/?next={url}"

    assert list(ApiKey.objects.values_list("label", flat=True)) == ["laptop"]


def test_a_service_account_key_is_not_listed_on_a_members_page(alice_client, sam):
    response = alice_client.get(API_KEYS_URL)

    assert not any(key.prefix in response.text for key in sam.api_keys.all())


@pytest.mark.parametrize("count", [1, 20])
def test_the_keys_page_costs_the_same_queries_for_1_and_20_keys(
    client, django_assert_num_queries, count
):
    user = UserFactory(username="keyholder")
    for n in range(count):
        ApiKey.create_for(user=user, label=f"key {n}")
    client.force_login(user)

    # Session, user, keys.
    with django_assert_num_queries(3):
        response = client.get(API_KEYS_URL)

    assert response.status_code == 200
    assert len(response.context["api_keys"]) == count
