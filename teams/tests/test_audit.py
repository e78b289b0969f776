"""The team's audit trail: admins only, and it shows what the services wrote.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider), sam (the team's service account); alice alone in open-team.
"""

import html
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from teams import services
from teams.models import AuditEvent
from teams.views import AUDIT_PAGE_SIZE
from tests.factories import ProjectFactory, RunFactory, UserFactory, add_member

URL = "/teams/example-team/audit/"


def login(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)


def rows(response):
    """The table's rows as (who, what, target, details) text."""
    table = response.content.decode().split('<table class="table" id="audit">')[1]
    table = table.split("</table>")[0]
    found = []
    for row in re.findall(r"<tr>\s*(.*?)\s*</tr>", table.split("<tbody>")[1], re.S):
        cells = [html.unescape(c.strip()) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if len(cells) == 5:
            # PostgreSQL's jsonb keeps its own key order: compare the details sorted.
            who, what, target, details = cells[1:]
            found.append((who, what, target, ", ".join(sorted(details.split(", ")))))
    return found


def test_admin_sees_the_audit_trail(client, alice, team):
    login(client, alice)
    response = client.get(URL)
    assert response.status_code == 200
    # Newest first, as the persona fixtures made the team (their services ran without an actor).
    assert rows(response) == [
        ("system", "added a member", "bob", "role: member"),
        ("system", "changed privacy", "example-team", "is_private: True"),
        ("alice", "created the team", "example-team", ""),
        ("alice", "added a member", "alice", "role: admin"),
    ]


def test_audit_trail_refuses_everyone_else(client, bob, charlie, sam):
    login(client, bob)
    assert client.get(URL).status_code == 403
    login(client, charlie)
    assert client.get(URL).status_code == 404
    login(client, None)
    assert client.get(URL).url == f"/accounts/login/?next={quote(URL)}"
    login(client, sam)  # the web drops a service account's session
    assert client.get(URL).url == f"/accounts/login/?next={quote(URL)}"


def test_unknown_team_and_personal_entities_have_no_audit_page(client, alice):
    login(client, alice)
    assert client.get("/teams/nothing/audit/").status_code == 404
    assert client.get("/teams/alice/audit/").status_code == 404


def test_admin_actions_show_up_in_the_trail(client, alice, bob, team):
    """Each action done through the site is written by its service and read back on the page."""
    dana = UserFactory(username="dana")
    add_member(team, dana)
    login(client, alice)
    AuditEvent.objects.all().delete()

    assert (
        client.post(
            "/teams/example-team/members/invite/", {"email": "eve@example.com", "role": "member"}
        ).status_code
        == 302
    )
    assert (
        client.post("/teams/example-team/members/bob/role/", {"role": "admin"}).status_code == 302
    )
    assert client.post("/teams/example-team/members/dana/remove/").status_code == 302
    assert client.post("/teams/example-team/settings/privacy/", {}).status_code == 302
    assert (
        client.post("/teams/example-team/service-accounts/new/", {"name": "ci"}).status_code == 200
    )

    resnet = ProjectFactory(entity=team, creator=alice, name="resnet")
    bert = ProjectFactory(entity=team, creator=alice, name="bert")
    for run_id in ["r1", "r2", "r3"]:
        RunFactory(project=resnet, run_id=run_id, author=bob)
    response = client.post(
        "/example-team/resnet/move-runs/", {"run": ["r1", "r2"], "target": "example-team/bert"}
    )
    assert response.url == "/example-team/bert/"
    response = client.post("/example-team/bert/delete-runs/", {"run": ["r1"], "confirm": "1"})
    assert bert.runs.count() == 1

    assert rows(client.get(URL)) == [
        ("alice", "moved runs to the trash", "example-team/bert", "count: 1"),
        ("alice", "moved runs in", "example-team/bert", "count: 2, source: example-team/resnet"),
        ("alice", "moved runs out", "example-team/resnet", "count: 2, to: example-team/bert"),
        ("alice", "created a project", "bert", ""),
        ("alice", "created a project", "resnet", ""),
        ("alice", "created a service account", "ci", ""),
        ("alice", "changed privacy", "example-team", "is_private: False"),
        ("alice", "removed a member", "dana", "role: member"),
        ("alice", "changed a role", "bob", "new: admin, old: member"),
        ("alice", "sent an invitation", "eve@example.com", "role: member"),
    ]


def test_runs_moved_between_teams_are_in_both_trails(client, alice, bob, team, public_team):
    resnet = ProjectFactory(entity=team, creator=alice, name="resnet")
    target = ProjectFactory(entity=public_team, creator=alice, name="demo")
    RunFactory(project=resnet, run_id="r1", author=bob)
    login(client, alice)
    client.post("/example-team/resnet/move-runs/", {"run": ["r1"], "target": "open-team/demo"})
    assert rows(client.get(URL))[0] == (
        "alice",
        "moved runs out",
        "example-team/resnet",
        "count: 1, to: open-team/demo",
    )
    assert rows(client.get("/teams/open-team/audit/"))[0] == (
        "alice",
        "moved runs in",
        "open-team/demo",
        "count: 1, source: example-team/resnet",
    )
    # Each trail holds its own team's events only.
    assert all(row[2] != "open-team/demo" for row in rows(client.get(URL)))
    assert target.runs.count() == 1


def test_audit_trail_pages(client, alice, team, public_team):
    AuditEvent.objects.all().delete()
    start = timezone.now() - timedelta(days=1)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            entity=team,
            actor=alice,
            actor_name="alice",
            verb=AuditEvent.Verb.MEMBER_ADDED,
            target=f"person{i:03d}",
            created_at=start + timedelta(minutes=i),
        )
        for i in range(120)
    )
    # Another team's events never show.
    AuditEvent.objects.create(entity=public_team, verb=AuditEvent.Verb.TEAM_CREATED, target="x")
    login(client, alice)
    targets = []
    for number in [1, 2, 3]:
        response = client.get(URL, {"page": number})
        page_rows = rows(response)
        assert len(page_rows) == [AUDIT_PAGE_SIZE, AUDIT_PAGE_SIZE, 20][number - 1]
        targets += [row[2] for row in page_rows]
        body = response.content.decode()
        assert ("Older →" in body) is (number < 3)
        assert ("← Newer" in body) is (number > 1)
    assert targets == [f"person{i:03d}" for i in reversed(range(120))]
    # Out-of-range or bad page numbers fall back to a real page.
    assert rows(client.get(URL, {"page": 99}))[-1][2] == "person000"
    assert rows(client.get(URL, {"page": "x"}))[0][2] == "person119"


def test_audit_trail_keeps_names_of_deleted_people(client, alice, team):
    gone = UserFactory(username="gone")
    add_member(team, gone)
    services.audit(team, gone, AuditEvent.Verb.MEMBER_LEFT, "gone")
    services.membership_remove(membership=team.memberships.get(user=gone), actor=alice)
    gone.delete()
    login(client, alice)
    assert ("gone", "left the team", "gone", "") in rows(client.get(URL))


@pytest.mark.parametrize("size", [5, 120])
def test_audit_trail_costs_fixed_queries(client, alice, team, django_assert_num_queries, size):
    AuditEvent.objects.bulk_create(
        AuditEvent(entity=team, actor=alice, actor_name="alice", verb="member.added", target="x")
        for _ in range(size)
    )
    login(client, alice)
    client.get(URL)
    # session, user, team, permissions, count, page
    with django_assert_num_queries(6):
        assert client.get(URL).status_code == 200
