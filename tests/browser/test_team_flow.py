"""The team flow a person clicks through, in a real browser: sign up, create a team, invite and
accept, toggle privacy, change a role, remove a member."""

import re

from playwright.sync_api import expect

from teams.models import Entity, Membership, Role

PASSWORD = "correct-horse-battery-staple"


def email_to(outbox, address):
    """The one email sent to `address`."""
    messages = [message for message in outbox if message.to == [address]]
    assert len(messages) == 1, [message.subject for message in outbox]
    return messages[0]


def link_path(message, pattern):
    """The path of the link in an email's text, to open on the test server."""
    return re.search(rf"https?://[^/\s]+({pattern})", message.body).group(1)


def sign_up(page, *, email, username):
    if email is not None:
        page.fill("#id_email", email)
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Sign Up").click()


def test_team_lifecycle(live_server, page, new_context, mailoutbox, tmp_path):
    # Dana signs up and verifies her email with the link from the outbox.
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    sign_up(page, email="dana@example.com", username="dana")
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    page.goto(link_path(email_to(mailoutbox, "dana@example.com"), r"/accounts/confirm-email/\S+/"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Welcome, dana")).to_be_visible()

    # Settings -> Teams -> Create a team; the URL preview follows the name as she types.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Teams and default entity").click()
    page.get_by_role("link", name="Create a team").click()
    preview = page.locator("[data-url-preview]")
    expect(preview).to_have_text(f"{live_server.url}/<name>/")
    page.get_by_label("Name").press_sequentially("Vision-Lab")
    expect(preview).to_have_text(f"{live_server.url}/vision-lab/")
    page.get_by_role("button", name="Create team").click()
    expect(page).to_have_url(f"{live_server.url}/teams/vision-lab/members/")
    expect(page.get_by_role("status")).to_contain_text("Team vision-lab created")
    expect(page.locator("#member-dana")).to_contain_text("dana@example.com")

    # She invites Erin from the Members page.
    page.get_by_label("Email").fill("erin@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("heading", name="Invitation sent")).to_be_visible()
    invitation = email_to(mailoutbox, "erin@example.com")
    assert invitation.subject == "dana invited you to join vision-lab on Teamsite"

    # Erin, in her own browser, opens the link and signs up through it with the invited email:
    # the link proves she owns the address, so no verification email is sent.
    erin = new_context().new_page()
    erin.goto(link_path(invitation, r"/invitations/\S+/"))
    expect(erin.get_by_role("heading", name="Join vision-lab")).to_be_visible()
    erin.get_by_role("link", name="Create an account").click()
    expect(erin.locator("#id_email")).to_have_value("erin@example.com")
    sign_up(erin, email=None, username="erin")
    erin.get_by_role("button", name="Join vision-lab").click()
    expect(erin.get_by_role("status")).to_contain_text("Welcome to vision-lab")
    assert [message.to for message in mailoutbox] == [["dana@example.com"], ["erin@example.com"]]

    # Dana, still on the Members page, reloads it: Erin is in the table, the link is gone.
    page.reload()
    expect(page.locator("#member-erin")).to_contain_text("erin@example.com")
    expect(page.get_by_role("heading", name="Invitation sent")).to_have_count(0)

    # Privacy on, then off.
    page.get_by_role("link", name="Privacy").click()
    page.get_by_label("Private team").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#privacy-state")).to_have_text("private")
    expect(page.get_by_role("navigation", name="Team")).to_contain_text("private")
    assert Entity.objects.get(name="vision-lab").is_private
    page.get_by_label("Private team").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#privacy-state")).to_have_text("not private")
    assert not Entity.objects.get(name="vision-lab").is_private

    # She removes Erin through the confirmation page.
    page.get_by_role("link", name="Members").click()
    page.locator("#member-erin").get_by_role("link", name="Remove").click()
    expect(page.get_by_role("heading", name="Remove erin from vision-lab?")).to_be_visible()
    expect(page.get_by_text("Their runs stay")).to_be_visible()
    page.get_by_role("button", name="Remove erin").click()
    expect(page.get_by_role("status")).to_contain_text("erin was removed from vision-lab")
    expect(page.get_by_text("erin was removed from vision-lab")).to_have_count(1)  # not in rows
    expect(page.locator("#member-erin")).to_have_count(0)
    expect(page.locator("#member-dana")).to_have_count(1)

    # Erin's Teams settings no longer list the team; new runs go to her personal entity again.
    erin.goto("/settings/teams/")
    expect(erin.get_by_role("link", name="vision-lab")).to_have_count(0)
    expect(erin.get_by_text("You are not in a team yet.")).to_be_visible()
    expect(erin.locator("#default-entity")).to_have_text("erin")
    assert Membership.objects.get(user__username="erin", is_default=True).entity.name == "erin"

    screenshot = tmp_path / "team-flow.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0


def test_admin_changes_role_in_place(page, login, alice, bob, team, membership_of):
    login(page.context, alice)
    page.goto("/teams/example-team/members/")
    page.evaluate("window.notReloaded = true")
    row = page.locator("#member-bob")

    with page.expect_response("**/members/bob/role/") as response:
        row.get_by_label("Role of bob").select_option("admin")
    assert response.value.request.headers.get("hx-request") == "true"

    # The row was swapped in place: same document, new role and the message in the row.
    expect(row).to_contain_text("bob is now admin.")
    expect(row.get_by_label("Role of bob")).to_have_value("admin")
    assert page.evaluate("window.notReloaded") is True
    assert membership_of(team, bob).role == Role.ADMIN
