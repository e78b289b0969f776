"""Restricting a project in a real browser: a team admin ticks Restricted and names a member
on the project's settings page; the named member sees the project and its badge, another
member gets the not-found page."""

from playwright.sync_api import expect

from projects.models import ProjectMember
from teams.models import Role
from tests.factories import ProjectFactory, UserFactory, add_member


def test_admin_restricts_a_project_to_a_named_member(
    live_server, page, new_context, login, client, team, alice, bob, tmp_path
):
    erin = UserFactory(username="erin")
    add_member(team, erin, Role.MEMBER)
    project = ProjectFactory(entity=team, creator=alice, name="vision")
    login(page.context, alice)

    page.goto(project.get_settings_url())
    access = page.locator("#access")
    expect(access).to_contain_text("always see this project")
    access.get_by_label("Restricted").check()
    access.get_by_label("erin").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Project settings saved")
    expect(page.locator("#access > legend")).to_contain_text("restricted")
    page.screenshot(path=tmp_path / "restricted-settings.png", full_page=True)
    assert list(ProjectMember.objects.values_list("membership__user__username", flat=True)) == [
        "erin"
    ]

    erins = new_context()
    login(erins, erin)
    erins_page = erins.new_page()
    erins_page.goto(project.get_absolute_url())
    expect(erins_page.get_by_role("heading", name="vision")).to_contain_text("restricted")

    # (Not in the browser: it would report the 404 as a console error.)
    client.force_login(bob)
    assert client.get(project.get_absolute_url()).status_code == 404
