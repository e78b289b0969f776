"""The run page (config and summary tables), renaming a run and editing its tags and notes.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider), sam (the team's service account); alice alone in open-team.
"""

import re
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages

from projects.services import project_create, project_update, team_privacy_set
from runs.models import Run
from teams import services
from teams.models import Role
from tests.factories import ProjectFactory, RunFactory

CONFIG = {"lr": 0.001, "optimizer": "adam", "layers": [64, 32]}
SUMMARY = {"loss": 0.25, "accuracy": 0.91, "_step": 1200, "_runtime": 3600}


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def bobs_run(resnet, bob):
    return RunFactory(
        project=resnet,
        run_id="a6opolcx",
        name="bold-sun-7",
        author=bob,
        config=CONFIG,
        summary=SUMMARY,
        tags=["baseline"],
        notes="First try.",
        runtime=3600.0,
        host="gpu-01",
    )


@pytest.fixture
def alices_run(resnet, alice):
    return RunFactory(project=resnet, run_id="zz9", author=alice, tags=["keep"], notes="Mine.")


@pytest.fixture
def public_run(public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="demo", visibility="public")
    return RunFactory(project=project, run_id="pub1", author=alice, summary={"loss": 1.5})


def login(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)


def detail_url(run):
    return f"/{run.project.path}/runs/{run.run_id}/"


def edit_url(run):
    return detail_url(run) + "edit/"


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def state_of(run):
    run.refresh_from_db()
    return run.tags, run.notes


# Seeing a run


def test_member_sees_the_run_with_config_and_summary(client, alice, bob, bobs_run):
    login(client, alice)
    response = client.get(detail_url(bobs_run))
    assert response.status_code == 200
    assert response.context["config_rows"] == sorted(CONFIG.items())
    # Keys starting with "_" are the client's bookkeeping, not results.
    rows = response.context["summary_rows"]
    assert [(row.key, row.value, row.kind) for row in rows] == [
        ("accuracy", 0.91, None),
        ("loss", 0.25, None),
    ]
    body = response.content.decode()
    assert "bold-sun-7</h1>" in body or "bold-sun-7 <span" in body
    assert "<code>a6opolcx</code>" in body
    assert "<tr><th>optimizer</th><td><code>adam</code></td></tr>" in body
    assert re.search(
        r'<tr><th>loss</th><td>\s*<code class="summary-text">0.25</code>\s*</td></tr>', body
    )
    assert "_runtime" not in body
    assert "gpu-01" in body


def test_run_without_config_or_summary_says_so(client, alice, alices_run):
    login(client, alice)
    body = client.get(detail_url(alices_run)).content.decode()
    assert "No config." in body
    assert "No summary." in body


def test_non_dict_config_and_summary_do_not_break_the_page(client, alice, alices_run):
    alices_run.config, alices_run.summary = ["odd"], "odd"
    alices_run.save()
    login(client, alice)
    response = client.get(detail_url(alices_run))
    assert response.status_code == 200
    assert response.context["config_rows"] == []
    assert response.context["summary_rows"] == []


@pytest.mark.parametrize("who", ["anonymous", "charlie"])
def test_outsider_gets_404_on_a_private_teams_run(client, charlie, bobs_run, who):
    login(client, charlie if who == "charlie" else None)
    assert client.get(detail_url(bobs_run)).status_code == 404


def test_private_teams_run_stays_hidden_even_if_its_project_was_public(
    client, alice, charlie, bobs_run
):
    team, project = bobs_run.project.entity, bobs_run.project
    team_privacy_set(team=team, is_private=False, actor=alice)
    project_update(project=project, actor=alice, description="", visibility="public")
    team_privacy_set(team=team, is_private=True, actor=alice)
    login(client, charlie)
    assert client.get(detail_url(bobs_run)).status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "charlie"])
def test_anyone_sees_a_public_projects_run_without_the_edit_form(client, charlie, public_run, who):
    login(client, charlie if who == "charlie" else None)
    response = client.get(detail_url(public_run))
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    assert "/edit/" not in response.content.decode()


def test_unknown_run_is_404(client, alice, resnet, bobs_run, team):
    login(client, alice)
    assert client.get(f"/{resnet.path}/runs/nope/").status_code == 404
    # A run is found in its own project only.
    other = ProjectFactory(entity=team, creator=alice, name="other")
    assert client.get(f"/{other.path}/runs/{bobs_run.run_id}/").status_code == 404


@pytest.mark.parametrize(
    ("who", "run", "can_edit"),
    [
        ("bob", "bobs_run", True),  # the author
        ("alice", "bobs_run", True),  # an admin
        ("alice", "alices_run", True),
        ("bob", "alices_run", False),  # another member
    ],
)
def test_edit_form_is_shown_to_author_and_admins(
    client, alice, bob, bobs_run, alices_run, who, run, can_edit
):
    run = {"bobs_run": bobs_run, "alices_run": alices_run}[run]
    login(client, {"alice": alice, "bob": bob}[who])
    response = client.get(detail_url(run))
    assert response.context["can_edit"] is can_edit
    assert (edit_url(run) in response.content.decode()) is can_edit


# Editing tags and notes


def test_author_edits_tags_and_notes(client, bob, bobs_run):
    login(client, bob)
    response = client.post(
        edit_url(bobs_run), {"tags": " v2, sweep ,, v2, ", "notes": "Second try."}
    )
    assert response.status_code == 302
    assert response.url == detail_url(bobs_run)
    assert messages_of(response) == ["Run saved."]
    assert state_of(bobs_run) == (["v2", "sweep"], "Second try.")


def test_admin_edits_someone_elses_run(client, alice, bobs_run):
    login(client, alice)
    client.post(edit_url(bobs_run), {"tags": "", "notes": ""})
    assert state_of(bobs_run) == ([], "")


def test_other_member_cannot_edit_a_run(client, bob, alices_run):
    login(client, bob)
    response = client.post(edit_url(alices_run), {"tags": "mine", "notes": "Taken."})
    assert response.status_code == 403
    assert state_of(alices_run) == (["keep"], "Mine.")


def test_outsider_gets_404_on_edit(client, charlie, alices_run):
    login(client, charlie)
    assert client.post(edit_url(alices_run), {"tags": "x", "notes": "x"}).status_code == 404
    assert state_of(alices_run) == (["keep"], "Mine.")


def test_outsider_gets_403_editing_a_public_projects_run(client, charlie, public_run):
    login(client, charlie)
    assert client.post(edit_url(public_run), {"tags": "x", "notes": "x"}).status_code == 403
    assert state_of(public_run) == ([], "")


def test_anonymous_and_service_account_are_sent_to_login(client, sam, alices_run):
    url = edit_url(alices_run)
    response = client.post(url, {"tags": "x", "notes": "x"})
    assert response.url == f"/accounts/login/?next={quote(url)}"
    login(client, sam)
    response = client.post(url, {"tags": "x", "notes": "x"})
    assert response.url.startswith("/accounts/login/")
    assert state_of(alices_run) == (["keep"], "Mine.")


def test_author_who_left_the_team_cannot_edit(client, alice, bob, bobs_run, membership_of):
    services.membership_remove(membership=membership_of(bobs_run.project.entity, bob), actor=alice)
    login(client, bob)
    assert client.post(edit_url(bobs_run), {"tags": "x", "notes": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ("x" * 65, "“xxxxxxxxxxxxxxxxxxxx…” is longer than 64 characters."),
        (",".join(f"t{i}" for i in range(51)), "A run has at most 50 tags."),
        ("x" * 2001, "Ensure this value has at most 2000 characters (it has 2001)."),
    ],
)
def test_invalid_tags_change_nothing(client, bob, bobs_run, tags, message):
    login(client, bob)
    response = client.post(edit_url(bobs_run), {"tags": tags, "notes": "changed"})
    assert response.url == detail_url(bobs_run)
    assert messages_of(response) == [message]
    assert state_of(bobs_run) == (["baseline"], "First try.")


def test_edit_needs_post(client, bob, bobs_run):
    login(client, bob)
    assert client.get(edit_url(bobs_run)).status_code == 405


@pytest.mark.parametrize("run_id", ["move", "delete"])
def test_a_run_whose_id_is_a_bulk_action_word_still_opens(client, team, alice, run_id):
    project = project_create(entity=team, name="words", creator=alice)
    Run.objects.create(project=project, run_id=run_id, author=alice, summary={"loss": 0.5})
    client.force_login(alice)

    response = client.get(f"/{project.path}/runs/{run_id}/")

    assert response.status_code == 200
    assert response.context["run"].run_id == run_id


# The run's name, and renaming it


def rename_url(run):
    return detail_url(run) + "rename/"


def name_of(run):
    run.refresh_from_db()
    return run.name


HTMX = {"HX-Request": "true", "HX-Target": "run-title"}


def test_the_name_is_the_title_breadcrumb_and_table_entry(client, alice, bobs_run):
    login(client, alice)
    page = client.get(detail_url(bobs_run)).content.decode()
    assert "<title>bold-sun-7 · example-team/resnet · Teamsite</title>" in page
    assert '<span id="crumb-run">bold-sun-7</span>' in page
    assert 'bold-sun-7 <span class="state' in page
    table = client.get(f"/{bobs_run.project.path}/").content.decode()
    assert f'/runs/{bobs_run.run_id}/" hx-boost="false">bold-sun-7</a>' in table


def test_a_run_without_a_name_shows_its_id(client, alice, resnet):
    run = RunFactory(project=resnet, run_id="6wsd9t9v", name="", author=alice)
    login(client, alice)
    assert "<title>6wsd9t9v · " in client.get(detail_url(run)).content.decode()


PEOPLE = ("alice", "bob", "charlie")


@pytest.mark.parametrize(
    ("who", "author", "can_rename"),
    [
        ("bob", "bob", True),  # the author
        ("alice", "bob", True),  # an admin
        ("bob", "alice", False),  # another member
        ("charlie", "bob", False),  # an outsider, who sees the public project
    ],
)
def test_the_rename_link_is_shown_to_author_and_admins(
    client, alice, bob, charlie, public_team, who, author, can_rename
):
    people = dict(zip(PEOPLE, (alice, bob, charlie), strict=True))
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    services.membership_add(entity=public_team, user=bob, role=Role.MEMBER)
    run = RunFactory(project=project, run_id="r1", author=people[author])
    login(client, people[who])
    page = client.get(detail_url(run)).content.decode()
    assert ('href="?rename=1"' in page) is can_rename
    # Asking for the form without the right shows the page without it.
    page = client.get(detail_url(run) + "?rename=1").content.decode()
    assert ('name="name"' in page) is can_rename


def test_without_javascript_the_author_opens_the_form_and_renames(client, bob, bobs_run):
    login(client, bob)
    page = client.get(detail_url(bobs_run) + "?rename=1").content.decode()
    assert f'action="{rename_url(bobs_run)}"' in page and 'value="bold-sun-7"' in page

    response = client.post(rename_url(bobs_run), {"name": "  strong-sun-7  "})

    assert response.status_code == 302 and response.url == detail_url(bobs_run)
    assert messages_of(response) == ["Renamed the run to strong-sun-7."]
    assert name_of(bobs_run) == "strong-sun-7"


def test_with_htmx_the_title_turns_into_the_form_and_back(client, bob, bobs_run):
    login(client, bob)
    form = client.get(detail_url(bobs_run) + "?rename=1", headers=HTMX)
    assert [t.name for t in form.templates][:1] == ["run_title"]
    assert 'hx-post="' + rename_url(bobs_run) + '"' in form.content.decode()
    assert "<nav" not in form.content.decode()

    cancel = client.get(detail_url(bobs_run), headers=HTMX).content.decode()
    assert "bold-sun-7 <span" in cancel and "<form" not in cancel

    saved = client.post(rename_url(bobs_run), {"name": "bright-sun-7"}, headers=HTMX)
    body = saved.content.decode()
    assert saved.status_code == 200 and "<form" not in body
    assert "bright-sun-7 <span" in body
    assert '<span id="crumb-run" hx-swap-oob="true">bright-sun-7</span>' in body
    assert "<title>bright-sun-7 · example-team/resnet · Teamsite</title>" in body
    assert name_of(bobs_run) == "bright-sun-7"


def test_admin_renames_someone_elses_run(client, alice, bobs_run):
    login(client, alice)
    assert client.post(rename_url(bobs_run), {"name": "by-alice"}).status_code == 302
    assert name_of(bobs_run) == "by-alice"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("   ", "This field is required."),
        ("x" * 256, "Ensure this value has at most 255 characters (it has 256)."),
    ],
)
def test_an_invalid_name_shows_the_error_and_changes_nothing(client, bob, bobs_run, name, message):
    login(client, bob)
    page = client.post(rename_url(bobs_run), {"name": name})
    assert page.status_code == 400
    assert message in page.content.decode()
    assert page.context["name_form"].errors == {"name": [message]}

    partial = client.post(rename_url(bobs_run), {"name": name}, headers=HTMX)
    assert partial.status_code == 200 and message in partial.content.decode()
    assert "<nav" not in partial.content.decode()
    assert name_of(bobs_run) == "bold-sun-7"


def test_the_name_field_says_its_length_limit(client, bob, bobs_run):
    login(client, bob)
    assert 'maxlength="255"' in client.get(detail_url(bobs_run) + "?rename=1").content.decode()


def test_other_member_cannot_rename_a_run(client, bob, alices_run):
    login(client, bob)
    assert client.post(rename_url(alices_run), {"name": "taken"}).status_code == 403
    assert name_of(alices_run) == "name-zz9"


def test_outsider_gets_404_on_rename(client, charlie, alices_run):
    login(client, charlie)
    assert client.post(rename_url(alices_run), {"name": "x"}).status_code == 404
    assert name_of(alices_run) == "name-zz9"


def test_outsider_gets_403_renaming_a_public_projects_run(client, charlie, public_run):
    login(client, charlie)
    assert client.post(rename_url(public_run), {"name": "x"}).status_code == 403
    assert name_of(public_run) == "name-pub1"


def test_anonymous_is_sent_to_login_and_rename_needs_post(client, bob, alices_run):
    url = rename_url(alices_run)
    assert client.post(url, {"name": "x"}).url == f"/accounts/login/?next={quote(url)}"
    login(client, bob)
    assert client.get(url).status_code == 405
    assert name_of(alices_run) == "name-zz9"
