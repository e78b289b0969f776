"""htmx swaps keep to the Content Security Policy (no inline styles): an element whose former
self carried a style attribute (a script's, an extension's) must not have it copied onto its
replacement while the swap settles, which the policy refuses and the browser reports."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from projects.services import project_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_swapped_form_whose_field_had_a_style_swaps_without_a_policy_error(
    page, live_server, login, bob, team, alice, browser_errors
):
    project = project_create(entity=team, name="vision", creator=alice)
    login(page.context, bob)
    page.goto(live_server.url + reverse("alerts:rule_create", args=[team.name, project.name]))
    # A style set through the DOM (allowed), as scripts and browser extensions do.
    page.evaluate("document.getElementById('id_name').style.outline = '1px solid red'")

    page.get_by_role("button", name="Test this rule").click()  # swaps the form (htmx)

    expect(page.locator("#rule-form")).to_contain_text("This kind of rule watches a metric")
    page.wait_for_timeout(300)  # the swap settles
    assert browser_errors == []
