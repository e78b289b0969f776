"""List pages cost a fixed number of queries, whatever the number of rows.

The same scenario is built at two sizes and every page must cost exactly the number pinned here
at both: a page that grows with its rows (N+1) fails at the larger size. Each page is loaded once
before it is measured, so that process-wide caches (content types) are warm, as in a running
server.
"""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import ApiKey
from teams import services
from teams.models import Role
from tests.factories import TeamFactory, UserFactory, add_member

User = get_user_model()


def build(size):
    """example-team with `size` people (alice, its admin, and members), `size` pending
    invitations and `size` service accounts with two keys each; alice is in `size` teams."""
    alice = UserFactory(username="alice")
    people = [UserFactory() for _ in range(size - 1)]
    User.objects.filter(pk__in=[person.pk for person in people]).update(first_name="Named")
    team = TeamFactory(name="example-team", creator=alice, is_private=True)
    for person in people:
        add_member(team, person, Role.MEMBER)
    for i in range(size):
        services.invitation_create(
            entity=team, inviter=alice, email=f"invitee{i}@example.com", role=Role.MEMBER
        )
        membership, _ = services.service_account_create(entity=team, name=f"bot{i}")
        ApiKey.create_for(user=membership.user, label="second")
    for i in range(size - 1):
        TeamFactory(creator=alice, is_private=i % 2 == 0)
    return {"alice": alice, "member": people[-1]}


@pytest.mark.parametrize("size", [2, 20])
def test_list_pages_cost_fixed_queries(client, db, django_assert_num_queries, size):
    cast = build(size)
    pages = [
        # session, user, team, permissions of the viewer (guardian), people, invitations
        ("alice", reverse("teams:members", args=["example-team"]), 6),
        # the same without invitations
        ("member", reverse("teams:members", args=["example-team"]), 5),
        # session, user, team, permissions, accounts, their keys (one prefetch)
        ("alice", reverse("teams:service_accounts", args=["example-team"]), 6),
        # session, user, team, permissions
        ("alice", reverse("teams:settings", args=["example-team"]), 4),
        # session, user, default entity, writable entities for the select (twice: Django's
        # Select also reads the first choice to decide on `required`), teams with member counts
        ("alice", reverse("teams:user_teams"), 6),
        # session, user, teams with member counts, default entity, recent projects, recent
        # runs, recent alerts
        ("alice", reverse("home"), 8),
    ]
    for who, url, queries in pages:
        client.force_login(cast[who])
        assert client.get(url).status_code == 200
        with django_assert_num_queries(queries, info=f"{url} as {who} with {size} rows"):
            response = client.get(url)
        assert response.status_code == 200

    # The pages did list every row.
    client.force_login(cast["alice"])
    html = client.get(reverse("teams:members", args=["example-team"])).content.decode()
    assert html.count('<tr id="member-') == size
    assert html.count("@example.com</td>") == 2 * size  # people's and invitees' addresses
    html = client.get(reverse("teams:service_accounts", args=["example-team"])).content.decode()
    assert html.count("<code>ts-") == 2 * size
    response = client.get(reverse("teams:user_teams"))
    assert len(response.context["memberships"]) == size
    assert response.context["memberships"][0].member_count == size
    html = client.get(reverse("home")).content.decode()
    assert html.count('<li class="card">') == size
