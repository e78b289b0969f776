"""`wandb.Api().reports(path, name=...)`: the client's own ProjectViews query (allViews) lists
the project's reports its key may read, as the report page shows them, a page at a time."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wandb.apis.public.reports import BetaReport, Reports

from projects.services import project_create
from reports import services
from reports.models import Report, ReportBlock
from teams.models import Role
from teams.services import membership_remove
from tests.factories import UserFactory, add_member, api_key_for

from .test_graphql import gql, ok, refused

pytestmark = pytest.mark.django_db

Kind = ReportBlock.Kind


def views(client, key, path="example-team/vision", *, name=None, limit=50, cursor=None, **extra):
    entity, project = path.split("/")
    variables = {
        "project": project,
        "entity": entity,
        "viewName": name,
        "reportLimit": limit,
        "reportCursor": cursor,
        **extra,
    }
    return gql(client, key, None, variables, query=Reports.QUERY)


def listed(client, key, path="example-team/vision", **kwargs):
    project = ok(views(client, key, path, **kwargs))["project"]
    return None if project is None else project["allViews"]


def titles(connection_):
    return [edge["node"]["displayName"] for edge in connection_["edges"]]


def report(project, author, title, markdown="", *, publish=True, ids=None):
    made = services.report_create(project=project, title=title, actor=author)
    if markdown:
        services.block_add(report=made, kind=Kind.TEXT, config={"markdown": markdown})
    if ids:
        services.block_add(
            report=made,
            kind=Kind.RUNS_TABLE,
            config={"runs": {"ids": ids}, "columns": ["summary.loss"]},
        )
    if publish:
        services.report_publish(report=made, actor=author)
    return made


@pytest.fixture
def vision(team, alice):
    return project_create(entity=team, name="vision", creator=alice)


def test_members_list_published_reports_and_drafts_newest_first(client, vision, alice, bob):
    findings = report(vision, bob, "Findings", "# Loss fell\n\nDetails.")
    report(vision, alice, "Unfinished", publish=False)
    found = listed(client, api_key_for(alice))
    assert titles(found) == ["Unfinished", "Findings"]
    node = found["edges"][1]["node"]
    assert node["name"] == findings.key
    assert node["description"] == "Loss fell"
    assert node["user"] == {"username": "bob", "photoUrl": None, "email": bob.email}
    assert node["createdAt"] and node["updatedAt"]
    assert found["pageInfo"] == {"endCursor": found["edges"][1]["cursor"], "hasNextPage": False}
    # The id stays the report's.
    assert listed(client, api_key_for(bob))["edges"][1]["node"]["id"] == node["id"]


def test_readers_see_the_published_version_not_the_draft(client, vision, alice, bob):
    findings = report(vision, bob, "Findings", "Published words.")
    services.report_rename(report=findings, title="Renamed in the draft")
    services.block_add(report=findings, kind=Kind.TEXT, config={"markdown": "draft"})
    (edge,) = listed(client, api_key_for(alice))["edges"]
    spec = json.loads(edge["node"]["spec"])
    assert edge["node"]["displayName"] == "Findings"
    assert [block["config"] for block in spec["blocks"]] == [{"markdown": "Published words."}]


def test_outsiders_list_published_public_reports_only(client, public_team, alice, charlie):
    public = project_create(entity=public_team, name="open", creator=alice)
    public.visibility = "public"
    public.save(update_fields=["visibility"])
    shared = report(public, alice, "Open findings", "Visible.")
    shared.visibility = shared.Visibility.PUBLIC
    shared.save(update_fields=["visibility"])
    report(public, alice, "Team notes", "For the team.")  # published, read by the team only
    report(public, alice, "Secret plan", publish=False)
    found = listed(client, api_key_for(charlie), "open-team/open")
    assert titles(found) == ["Open findings"]
    assert found["edges"][0]["node"]["user"]["email"] is None  # not a teammate of alice


def test_a_private_teams_project_is_not_there_for_outsiders(client, vision, alice, charlie):
    report(vision, alice, "Findings")
    body = ok(views(client, api_key_for(charlie)))
    assert body == {"project": None}
    assert ok(views(client, api_key_for(charlie), "example-team/nothing")) == {"project": None}


def test_anonymous_callers_are_refused(client, vision, alice):
    report(vision, alice, "Findings")
    assert refused(views(client, None), 401)


def test_view_name_finds_one_report(client, vision, alice):
    wanted = report(vision, alice, "Wanted")
    report(vision, alice, "Other")
    assert titles(listed(client, api_key_for(alice), name=wanted.key)) == ["Wanted"]
    assert titles(listed(client, api_key_for(alice), name="no-such-key")) == []


def test_other_view_types_are_empty(client, vision, alice):
    report(vision, alice, "Findings")
    assert titles(listed(client, api_key_for(alice), viewType="runs/draft")) == []
    assert titles(listed(client, api_key_for(alice), viewType="runs")) == ["Findings"]


def test_reports_are_listed_a_page_at_a_time(client, vision, alice):
    for n in range(5):
        report(vision, alice, f"Report {n}")
    seen, cursor, pages = [], None, 0
    while True:
        page = listed(client, api_key_for(alice), limit=2, cursor=cursor)
        pages += 1
        seen += titles(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert seen == [f"Report {n}" for n in range(4, -1, -1)] and pages == 3


def test_a_bad_cursor_is_the_callers_mistake(client, vision, alice):
    assert refused(views(client, api_key_for(alice), cursor="abc"), 400) == "Invalid cursor."


def test_the_spec_names_the_runs_of_panels_that_pick_runs(client, vision, alice):
    report(vision, alice, "Picked", "Text first.", ids=["r1", "r2"])
    (edge,) = listed(client, api_key_for(alice))["edges"]
    spec = json.loads(edge["node"]["spec"])
    assert [block["kind"] for block in spec["blocks"]] == ["text", "runs_table"]
    # What the client's BetaReport makes of it: its sections and the runs of one.
    beta = BetaReport(None, edge["node"], entity="example-team", project="vision")
    (section,) = beta.sections
    run_set = section["runSets"][0]
    filters = beta.query_generator.filter_to_mongo(run_set["filters"])
    filters["$or"][0]["$and"].append({"name": {"$in": run_set["selections"]["tree"]}})
    assert filters == {"$or": [{"$and": [{"name": {"$in": ["r1", "r2"]}}]}]}


def test_listing_costs_the_same_queries_for_2_and_12_reports(client, vision, alice, bob):
    key = api_key_for(alice)

    def count():
        with CaptureQueriesContext(connection) as queries:
            ok(views(client, key))
        return len(queries)

    def make(n):
        for i in range(n):
            report(vision, bob, f"r{i}", "text", ids=["a"], publish=i % 2 == 0)

    make(2)
    count()  # the key's first use is recorded once
    small = count()
    make(10)
    assert Report.objects.count() == 12
    assert count() == small


def test_a_service_account_lists_the_teams_drafts(client, vision, alice, sam_and_key):
    report(vision, alice, "Unfinished", publish=False)
    assert titles(listed(client, sam_and_key[1])) == ["Unfinished"]


def test_a_removed_member_no_longer_lists_anything(client, team, vision, alice):
    erin = UserFactory(username="erin")
    membership = add_member(team, erin, Role.MEMBER)
    report(vision, alice, "Findings")
    assert titles(listed(client, api_key_for(erin))) == ["Findings"]
    membership_remove(membership=membership, actor=alice)
    assert ok(views(client, api_key_for(erin))) == {"project": None}


@pytest.mark.parametrize("cursor", ["-1", "0", "99999999999999999999999", "1e3"])
def test_cursors_out_of_range_are_refused(client, vision, alice, cursor):
    assert refused(views(client, api_key_for(alice), cursor=cursor), 400) == "Invalid cursor."


def test_any_variables_are_answered_below_500(client, vision, alice):
    report(vision, alice, "Findings", "words", ids=["r1"])
    key = api_key_for(alice)
    anything = st.none() | st.text(st.characters(codec=None, exclude_categories=()), max_size=12)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        name=anything,
        view_type=anything,
        cursor=anything | st.integers().map(str),
        limit=st.integers(-(2**31), 2**31 - 1),
    )
    def check(name, view_type, cursor, limit):
        response = views(client, key, name=name, cursor=cursor, limit=limit, viewType=view_type)
        assert response.status_code < 500
        assert isinstance(response.json(), dict)

    check()
