"""Home and search in a real browser: the signed-in home lists the person's projects, recent
runs and alerts; typing in the top bar's search field and pressing Enter shows the results
grouped by kind, and a result leads to its page. Screenshots go to /tmp/home-shots/."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import AlertEvent
from artifacts.models import ArtifactCollection
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/home-shots")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def vision(alice, bob, team, public_team):
    project = ProjectFactory(
        entity=team, creator=alice, name="vision", description="Image classifiers"
    )
    ProjectFactory(entity=public_team, creator=alice, name="vision-demo", visibility="public")
    now = timezone.now()
    calm = RunFactory(project=project, author=bob, name="vision-calm-lake", state="finished")
    RunFactory(project=project, author=bob, name="vision-wide-sky", state="running")
    RunFactory(project=project, author=bob, name="crashed-night", state="crashed")
    AlertEvent.objects.create(
        project=project,
        run=calm,
        rule_name="loss too high",
        message="val/loss is 2.5, above 1",
        fired_at=now - timedelta(minutes=5),
    )
    ArtifactCollection.objects.create(project=project, name="vision-images", type="dataset")
    return project


def test_home_lists_recent_runs_and_alerts(page, login, bob, vision, browser_errors):
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")

    runs = page.locator("#recent-runs")
    expect(runs.get_by_role("link", name="crashed-night")).to_be_visible()
    expect(runs.locator(".state-running")).to_have_text("Running")
    alerts = page.locator("#recent-alerts")
    expect(alerts).to_contain_text("val/loss is 2.5, above 1")
    expect(alerts).to_contain_text("loss too high")
    shot(page, "0-home")

    alerts.get_by_role("link", name="vision-calm-lake").click()
    expect(page.locator("h1")).to_contain_text("vision-calm-lake")


def test_search_from_the_top_bar_and_follow_a_result(page, login, bob, vision, browser_errors):
    login(page.context, bob)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")

    field = page.get_by_role("searchbox", name="Search", exact=True)
    field.fill("vision")
    field.press("Enter")

    expect(page).to_have_title("Search: vision · Teamsite")
    projects = page.locator("#projects")
    expect(projects.get_by_role("heading")).to_have_text("Projects 2")
    expect(projects.get_by_role("link")).to_have_count(2)
    runs = page.locator("section#runs")
    expect(runs.get_by_role("heading")).to_have_text("Runs 2")
    expect(runs).not_to_contain_text("crashed-night")
    expect(page.locator("section#artifacts").get_by_role("link")).to_have_text(["vision-images"])
    expect(page.locator("section#models")).to_contain_text("No registered models match.")
    # The page's own field keeps the words, for a second try.
    expect(
        page.get_by_label("Search projects, runs, artifacts and registered models")
    ).to_have_value("vision")
    shot(page, "1-search-results")

    runs.get_by_role("link", name="vision-wide-sky").click()
    expect(page.locator("h1")).to_contain_text("vision-wide-sky")
    shot(page, "2-followed-result")


def test_a_too_short_search_says_so(page, login, bob, vision, browser_errors):
    login(page.context, bob)
    page.goto("/search/?q=v")
    expect(page.locator("#search-errors")).to_have_text("Type at least 2 characters.")
    expect(page.locator(".search-group")).to_have_count(0)
    browser_errors.clear()  # the 400 answer itself is logged as a failed resource
    shot(page, "3-too-short")


def test_anonymous_visitor_searches_public_projects(page, vision, browser_errors):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/")
    field = page.get_by_role("searchbox", name="Search", exact=True)
    field.fill("vision")
    field.press("Enter")
    expect(page.locator("#projects").get_by_role("link")).to_have_text(["open-team / vision-demo"])
    expect(page.locator("body")).not_to_contain_text("vision-calm-lake")
    shot(page, "4-anonymous-phone")
