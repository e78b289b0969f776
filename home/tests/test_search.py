"""Search: projects, runs, artifacts and registered models, grouped, each group filtered in the
query by what the visitor may see; the top bar's field leads here from every page.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in open-team, whose projects may be public.
"""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artifacts.models import ArtifactCollection
from artifacts.registry import REGISTRY_PROJECT
from home.search import COUNT_LIMIT, GROUP_ROWS
from reports.services import report_create, report_publish, report_rename
from reports.share import report_set_visibility
from runs.models import Run
from teams.services import membership_remove
from tests.factories import ProjectFactory, RunFactory

GROUPS = ("projects", "runs", "artifacts", "models")
PORTFOLIO = ArtifactCollection.Kind.PORTFOLIO


def published_report(project, author, title):
    report = report_create(project=project, title=title, actor=author)
    report_publish(report=report, actor=author)
    return report


def collection(project, name, *, type="dataset", kind=ArtifactCollection.Kind.SEQUENCE):
    return ArtifactCollection.objects.create(project=project, name=name, type=type, kind=kind)


@pytest.fixture
def world(alice, team, public_team):
    """The same things in three places: the private team, a public project of open-team, and
    an internal (team-only) project of open-team."""
    private = ProjectFactory(entity=team, creator=alice, name="vision-private")
    public = ProjectFactory(
        entity=public_team, creator=alice, name="vision-public", visibility="public"
    )
    internal = ProjectFactory(entity=public_team, creator=alice, name="vision-internal")
    for project, where in ((private, "private"), (public, "public"), (internal, "internal")):
        RunFactory(project=project, author=alice, name=f"vision-run-{where}", run_id=f"id{where}")
        collection(project, f"vision-data-{where}")
    private_registry = ProjectFactory(entity=team, creator=alice, name=REGISTRY_PROJECT)
    public_registry = ProjectFactory(
        entity=public_team, creator=alice, name=REGISTRY_PROJECT, visibility="public"
    )
    collection(private_registry, "vision-model-private", type="model", kind=PORTFOLIO)
    collection(public_registry, "vision-model-public", type="model", kind=PORTFOLIO)
    # A portfolio outside a registry project still counts as a registered model.
    collection(internal, "vision-model-internal", type="model", kind=PORTFOLIO)
    return {"private": private, "public": public, "internal": internal}


def search(client, query, status=200):
    response = client.get("/search/", {"q": query})
    assert response.status_code == status
    return response.content.decode()


def group_names(html, group):
    """The names listed in one group of the results, in order."""
    section = html.split(f'<section class="search-group" id="{group}"')[1].split("</section>")[0]
    return re.findall(r"<strong>([^<]+)</strong></a>", section)


def group_count(html, group):
    section = html.split(f'<section class="search-group" id="{group}"')[1]
    return re.search(r'<span class="badge" title="matches">([^<]+)</span>', section)[1]


def group_links(html, group):
    section = html.split(f'<section class="search-group" id="{group}"')[1].split("</section>")[0]
    return re.findall(r'<a href="([^"]+)"><(?:span|strong)', section)


MEMBER_SEES = {
    "projects": ["vision-private", "vision-public"],
    "runs": ["vision-run-public", "vision-run-private"],
    "artifacts": ["vision-data-private", "vision-data-public"],
    "models": ["vision-model-private", "vision-model-public"],
}
OUTSIDER_SEES = {
    "projects": ["vision-public"],
    "runs": ["vision-run-public"],
    "artifacts": ["vision-data-public"],
    "models": ["vision-model-public"],
}


@pytest.mark.parametrize("group", GROUPS)
def test_member_finds_the_private_teams_things_and_public_ones(client, bob, world, group):
    client.force_login(bob)
    html = search(client, "vision")
    assert group_names(html, group) == MEMBER_SEES[group]
    assert group_count(html, group) == str(len(MEMBER_SEES[group]))


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("who", ["charlie", "anonymous"])
def test_outsiders_and_anonymous_find_public_things_only(client, charlie, world, group, who):
    if who == "charlie":
        client.force_login(charlie)
    html = search(client, "vision")
    assert group_names(html, group) == OUTSIDER_SEES[group]
    assert "private" not in html and "internal" not in html


def test_team_admin_finds_the_internal_project_of_the_public_team(client, alice, world):
    client.force_login(alice)
    html = search(client, "internal")
    assert group_names(html, "projects") == ["vision-internal"]
    assert group_names(html, "runs") == ["vision-run-internal"]
    assert group_names(html, "artifacts") == ["vision-data-internal"]
    assert group_names(html, "models") == ["vision-model-internal"]


def test_runs_are_found_by_run_id_and_every_result_links_to_its_page(client, bob, charlie, world):
    client.force_login(bob)
    html = search(client, "IDPRIV")
    assert group_names(html, "runs") == ["vision-run-private"]

    html = search(client, "vision")
    links = {group: group_links(html, group) for group in GROUPS}
    assert links["runs"][1] == "/example-team/vision-private/runs/idprivate/"
    assert links["projects"][0] == "/example-team/vision-private/"
    assert links["artifacts"][0] == (
        "/example-team/vision-private/artifacts/dataset/vision-data-private/"
    )
    # The team's registry for its members; a public project's page for everyone else.
    assert links["models"] == [
        "/example-team/registry/vision-model-private/",
        "/open-team/model-registry/artifacts/model/vision-model-public/",
    ]
    for group in GROUPS:
        for link in links[group]:
            assert client.get(link).status_code == 200, link

    # Outsiders and anonymous visitors may follow every link they are shown.
    client.force_login(charlie)
    for who in ("charlie", "anonymous"):
        if who == "anonymous":
            client.logout()
        html = search(client, "vision")
        for group in GROUPS:
            (link,) = group_links(html, group)
            assert client.get(link).status_code == 200, (who, link)


def test_a_removed_member_no_longer_finds_the_teams_things(
    client, alice, bob, team, world, membership_of
):
    membership_remove(membership=membership_of(team, bob), actor=alice)
    client.force_login(bob)
    html = search(client, "vision")
    for group in GROUPS:
        assert group_names(html, group) == OUTSIDER_SEES[group]


def test_many_matches_show_the_first_twenty_and_count_up_to_a_hundred(client, alice, team):
    project = ProjectFactory(entity=team, creator=alice, name="sweep")
    Run.objects.bulk_create(
        RunFactory.build_batch(COUNT_LIMIT + 5, project=project, author=alice, name="trial")
    )
    Run.objects.bulk_create(RunFactory.build_batch(30, project=project, author=alice, name="few"))
    client.force_login(alice)

    html = search(client, "trial")
    assert len(group_names(html, "runs")) == GROUP_ROWS
    assert group_count(html, "runs") == f"{COUNT_LIMIT}+"
    assert "type more to narrow the search" in html

    html = search(client, "few")
    assert len(group_names(html, "runs")) == GROUP_ROWS
    assert group_count(html, "runs") == "30"


@pytest.mark.parametrize("size", [2, 30])
def test_search_costs_the_same_queries_for_2_and_30_matches(
    client, alice, team, public_team, django_assert_num_queries, size
):
    for index in range(size):
        project = ProjectFactory(
            entity=[team, public_team][index % 2], creator=alice, name=f"match-{index}"
        )
        RunFactory(project=project, author=alice, name=f"match-run-{index}")
        published_report(project, alice, f"match-report-{index}")
        collection(project, f"match-data-{index}")
        collection(project, f"match-model-{index}", type="model", kind=PORTFOLIO)
    client.force_login(alice)

    # session, user, then one query per group
    with django_assert_num_queries(7):
        html = search(client, "match")
    for group in (*GROUPS, "reports"):
        assert len(group_names(html, group)) == min(size, GROUP_ROWS)
        assert group_count(html, group) == str(size)

    client.logout()
    with django_assert_num_queries(5):
        search(client, "match")


def test_an_empty_search_shows_the_form_alone(client, bob, world):
    client.force_login(bob)
    for url in ("/search/", "/search/?q=", "/search/?q=++"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="search-form"' in html
        assert "search-group" not in html and "errorlist" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [("v", "Type at least 2 characters."), ("v" * 201, "Type at most 200 characters.")],
)
def test_a_too_short_or_too_long_search_is_refused_with_a_message(
    client, bob, world, query, message
):
    client.force_login(bob)
    html = search(client, query, status=400)
    assert message in html
    assert "search-group" not in html


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("100%", ["acc-100%"]),
        ("a_b", ["a_b"]),
        ("it's", ["it's-fine"]),
        ('"q', ['"quoted"']),
        ("%%", []),
        ("__", []),
    ],
)
def test_special_characters_match_themselves(client, alice, team, query, found):
    project = ProjectFactory(entity=team, creator=alice, name="chars")
    for name in ("acc-100%", "a_b", "axb", "it's-fine", '"quoted"', "plain"):
        RunFactory(project=project, author=alice, name=name)
    client.force_login(alice)
    html = search(client, query)
    names = group_names(html, "runs")
    assert [name.replace("&#x27;", "'").replace("&quot;", '"') for name in names] == found


def test_the_top_bar_search_is_on_every_page(client, bob, team):
    for signed_in in (False, True):
        if signed_in:
            client.force_login(bob)
        html = client.get("/").content.decode()
        form = html.split('<form class="topbar-search"')[1].split("</form>")[0]
        assert 'action="/search/"' in form and 'method="get"' in form
        assert '<label for="topbar-search" class="visually-hidden">Search</label>' in form
        assert 'name="q"' in form


@pytest.fixture
def fuzz_cast(alice, team, public_team):
    project = ProjectFactory(entity=team, creator=alice, name="fuzz")
    RunFactory(project=project, author=alice, name="fuzz-run")
    collection(project, "fuzz-data")
    return alice


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=220))
def test_any_search_text_gets_an_answer_not_a_server_error(client, fuzz_cast, query):
    client.force_login(fuzz_cast)
    response = client.get("/search/", {"q": query})
    assert response.status_code in (200, 400)
    if response.status_code == 200 and len(query.strip()) >= 2:
        assert 'class="search-group"' in response.content.decode()


def test_reports_are_found_by_who_may_read_them(client, alice, bob, charlie, team, public_team):
    private = ProjectFactory(entity=team, creator=alice, name="private-work")
    public = ProjectFactory(
        entity=public_team, creator=alice, name="open-work", visibility="public"
    )
    internal = ProjectFactory(entity=public_team, creator=alice, name="internal-work")
    published_report(private, alice, "Quarterly findings")
    report_set_visibility(
        report=published_report(public, alice, "Open findings"), visibility="public", actor=alice
    )
    # Public reports are read outside the team even when their project is team-only.
    report_set_visibility(
        report=published_report(internal, alice, "Inside findings"),
        visibility="public",
        actor=alice,
    )
    published_report(public, alice, "Team findings")  # visibility: the team
    draft = report_create(project=private, title="Draft findings", actor=alice)
    unshared = report_create(project=public, title="Unshared findings", actor=alice)
    report_set_visibility(report=unshared, visibility="public", actor=alice)  # never published

    def found(who):
        if who:
            client.force_login(who)
        else:
            client.logout()
        return group_names(search(client, "findings"), "reports")

    # bob, a member of the private team: its published and draft reports, and public ones
    # published; a draft or a team-only report of a team he is not in stays hidden.
    assert sorted(found(bob)) == [
        "Draft findings",
        "Inside findings",
        "Open findings",
        "Quarterly findings",
    ]
    assert sorted(found(charlie)) == ["Inside findings", "Open findings"]
    assert sorted(found(None)) == ["Inside findings", "Open findings"]
    # alice, in both teams: all of them.
    assert len(found(alice)) == 6
    # Once published, the published title is what the list shows, however the draft was
    # renamed since; the draft's new title finds it too.
    report_publish(report=draft, actor=alice)
    report_rename(report=draft, title="Renamed in the draft")
    assert "Draft findings" in found(bob)
    client.force_login(bob)
    assert group_names(search(client, "Renamed"), "reports") == ["Draft findings"]
