"""The home page: the person's teams with their role, and the projects of their own entities,
latest activity first, each linked to its page.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in open-team.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from projects.selectors import HOME_PROJECTS
from tests.factories import ProjectFactory, RunFactory


def home(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def project_links(html):
    table = html.split('<table class="table" id="projects">')[1].split("</table>")[0]
    return re.findall(r'<td><a href="(/[^"]+/)">', table)


def test_home_lists_the_projects_a_member_can_see_latest_activity_first(
    client, alice, bob, charlie, team, public_team
):
    now = timezone.now()
    resnet = ProjectFactory(entity=team, creator=alice, name="resnet")
    bert = ProjectFactory(entity=team, creator=bob, name="bert")
    ProjectFactory(entity=bob.personal_entity, creator=bob, name="scratch")
    ProjectFactory(entity=public_team, creator=alice, name="demo", visibility="public")
    ProjectFactory(entity=charlie.personal_entity, creator=charlie, name="secret")
    RunFactory(project=resnet, author=alice, created_at=now - timedelta(days=3))
    RunFactory(project=bert, author=bob, created_at=now - timedelta(hours=1))
    RunFactory(project=bert, author=bob, created_at=now - timedelta(days=9))
    # scratch has no run: it counts from its creation, just now.

    html = home(client, bob)

    assert project_links(html) == ["/bob/scratch/", "/example-team/bert/", "/example-team/resnet/"]
    assert "no runs yet" in html
    assert "demo" not in html and "secret" not in html
    # The teams, with the person's role in each.
    assert '<a href="/example-team/"><strong>example-team</strong></a>' in html
    assert "Member · 2 members" in html
    assert "open-team" not in html
    assert 'id="no-projects"' not in html


def test_home_of_someone_without_projects_offers_to_create_a_project_or_a_team(client, charlie):
    html = home(client, charlie)

    empty = html.split('id="no-projects">')[1].split("</p>")[0]
    assert '<a href="/projects/new/">Create a project</a>' in empty
    assert '<a href="/settings/teams/new/">create a team</a>' in empty
    assert 'id="projects"' not in html


@pytest.mark.parametrize("size", [2, 30])
def test_home_costs_the_same_queries_for_2_and_30_projects(
    client, alice, team, public_team, django_assert_num_queries, size
):
    for index in range(size):
        entity = [team, public_team, alice.personal_entity][index % 3]
        project = ProjectFactory(entity=entity, creator=alice, name=f"p{index}")
        RunFactory(project=project, author=alice)
    client.force_login(alice)
    client.get("/")

    # session, user, teams with member counts, default entity, recent projects
    with django_assert_num_queries(5):
        response = client.get("/")

    assert len(project_links(response.content.decode())) == min(size, HOME_PROJECTS)
