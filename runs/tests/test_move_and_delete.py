"""Moving and deleting runs from the runs table: who may, where to, all or nothing, and the audit
trail they leave.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider), sam (the team's service account); alice alone in open-team.
"""

import html
import re
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages

from projects.models import Project
from runs import services
from runs.models import Run
from runs.services import RunsForbidden
from teams.models import AuditEvent
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def resnet(team, alice, bob):
    """example-team/resnet: alice's runs a1, a2 and bob's runs b1, b2."""
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    for run_id, author in [("a1", alice), ("a2", alice), ("b1", bob), ("b2", bob)]:
        RunFactory(project=project, run_id=run_id, author=author)
    return project


@pytest.fixture
def bert(team, bob):
    return ProjectFactory(entity=team, creator=bob, name="bert")


@pytest.fixture
def bob_scratch(bob):
    return ProjectFactory(entity=bob.personal_entity, creator=bob, name="scratch")


@pytest.fixture
def open_project(public_team, alice):
    return ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")


def move_url(project):
    return f"/{project.path}/move-runs/"


def delete_url(project):
    return f"/{project.path}/delete-runs/"


def placement():
    """Where every run is: {run_id: "entity/project"}, to prove what moved and what did not."""
    return {
        run_id: f"{entity}/{name}"
        for run_id, entity, name in Run.objects.values_list(
            "run_id", "project__entity__name", "project__name"
        )
    }


def placement_list():
    """The same as pairs, for when a run id is in more than one project."""
    return sorted(Run.objects.values_list("run_id", "project_id"))


def run_count():
    return Run.objects.count()


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def run_events():
    """The audit events that moving and deleting runs write, oldest first."""
    verbs = ["runs.moved_out", "runs.moved_in", "runs.deleted"]
    return list(
        AuditEvent.objects.filter(verb__in=verbs)
        .order_by("id")
        .values("entity__name", "actor_name", "verb", "target", "details")
    )


def assert_refused(response, message, before, *, back_to="/example-team/resnet/"):
    assert response.status_code == 302
    assert response.url == back_to
    assert messages_of(response) == [message]
    assert placement() == before
    assert run_events() == []


# Move: who may


def test_admin_moves_other_peoples_runs(client, alice, resnet, bert):
    client.force_login(alice)
    response = client.post(move_url(resnet), {"run": ["b1", "a1"], "target": "example-team/bert"})
    assert response.status_code == 302
    assert response.url == "/example-team/bert/"
    assert messages_of(response) == ["Moved 2 runs to example-team/bert."]
    assert placement() == {
        "a1": "example-team/bert",
        "a2": "example-team/resnet",
        "b1": "example-team/bert",
        "b2": "example-team/resnet",
    }
    assert run_events() == [
        {
            "entity__name": "example-team",
            "actor_name": "alice",
            "verb": "runs.moved_out",
            "target": "example-team/resnet",
            "details": {"count": 2, "to": "example-team/bert"},
        },
        {
            "entity__name": "example-team",
            "actor_name": "alice",
            "verb": "runs.moved_in",
            "target": "example-team/bert",
            "details": {"count": 2, "source": "example-team/resnet"},
        },
    ]


def test_member_moves_own_runs(client, bob, resnet, bert):
    client.force_login(bob)
    response = client.post(move_url(resnet), {"run": ["b1", "b2"], "target": "example-team/bert"})
    assert response.url == "/example-team/bert/"
    assert messages_of(response) == ["Moved 2 runs to example-team/bert."]
    assert Run.objects.get(run_id="b1").project == bert
    assert Run.objects.get(run_id="b2").project == bert
    assert [event["details"]["count"] for event in run_events()] == [2, 2]


def test_member_cannot_move_someone_elses_run(client, bob, resnet, bert):
    client.force_login(bob)
    before = placement()
    response = client.post(move_url(resnet), {"run": ["b1", "a1"], "target": "example-team/bert"})
    assert_refused(
        response,
        "You can only change runs you logged: 1 of the 2 selected runs belong to other people. "
        "Ask an admin of example-team.",
        before,
    )


@pytest.mark.parametrize(
    "target",
    ["open-team/open", "charlie/mine", "example-team/nope", "nobody/nothing", "", "example-team"],
)
def test_cannot_move_into_a_project_one_cannot_write_to(
    client, bob, charlie, resnet, open_project, target
):
    ProjectFactory(entity=charlie.personal_entity, creator=charlie, name="mine")
    client.force_login(bob)
    before = placement()
    response = client.post(move_url(resnet), {"run": ["b1"], "target": target})
    assert_refused(response, "Choose a project you can write to.", before)


def test_moving_into_the_same_project_is_refused(client, alice, resnet):
    client.force_login(alice)
    before = placement()
    response = client.post(move_url(resnet), {"run": ["a1"], "target": "example-team/resnet"})
    assert_refused(response, "The runs are already in this project.", before)


def test_moving_nothing_is_refused(client, alice, resnet, bert):
    client.force_login(alice)
    before = placement()
    response = client.post(move_url(resnet), {"run": ["zz"], "target": "example-team/bert"})
    assert_refused(response, "No runs were selected.", before)


def test_runs_of_another_project_cannot_be_smuggled_in(client, alice, resnet, bert):
    RunFactory(project=bert, run_id="elsewhere", author=alice)
    client.force_login(alice)
    before = placement()
    response = client.post(move_url(resnet), {"run": ["elsewhere"], "target": "example-team/bert"})
    assert_refused(response, "No runs were selected.", before)


def test_service_account_cannot_move_runs(client, sam, resnet, bert):
    # The web drops a session forced onto a service account, so the request is anonymous.
    client.force_login(sam)
    before = placement()
    response = client.post(move_url(resnet), {"run": ["a1"], "target": "example-team/bert"})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert placement() == before
    # And the service refuses it whoever calls it (the API goes through the same function).
    with pytest.raises(RunsForbidden, match="Service accounts cannot move or delete runs"):
        services.runs_move(
            actor=sam, source=resnet, runs=Run.objects.filter(run_id="a1"), target=bert
        )
    assert placement() == before


def test_anonymous_is_sent_to_login(client, resnet, bert):
    before = placement()
    response = client.post(move_url(resnet), {"run": ["a1"], "target": "example-team/bert"})
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={quote(move_url(resnet))}"
    assert placement() == before


def test_outsider_gets_404_on_a_private_project(client, charlie, resnet):
    target = ProjectFactory(entity=charlie.personal_entity, creator=charlie, name="mine")
    client.force_login(charlie)
    before = placement()
    response = client.post(move_url(resnet), {"run": ["a1"], "target": target.path})
    assert response.status_code == 404
    assert placement() == before


def test_outsider_cannot_move_runs_out_of_a_public_project(client, alice, charlie, open_project):
    RunFactory(project=open_project, run_id="o1", author=alice)
    target = ProjectFactory(entity=charlie.personal_entity, creator=charlie, name="mine")
    client.force_login(charlie)
    before = placement()
    response = client.post(move_url(open_project), {"run": ["o1"], "target": target.path})
    assert_refused(response, "Project not found.", before, back_to="/open-team/open/")


def test_get_is_not_allowed(client, alice, resnet):
    client.force_login(alice)
    assert client.get(move_url(resnet)).status_code == 405


# Move: across entities


def test_member_moves_runs_from_team_to_personal_project(client, bob, resnet, bob_scratch):
    client.force_login(bob)
    response = client.post(move_url(resnet), {"run": ["b1"], "target": "bob/scratch"})
    assert response.url == "/bob/scratch/"
    assert placement()["b1"] == "bob/scratch"
    events = run_events()
    assert [(e["entity__name"], e["verb"]) for e in events] == [
        ("example-team", "runs.moved_out"),
        ("bob", "runs.moved_in"),
    ]


def test_member_moves_runs_from_personal_project_to_team(client, bob, bob_scratch, bert):
    RunFactory(project=bob_scratch, run_id="p1", author=bob)
    RunFactory(project=bob_scratch, run_id="p2", author=bob)
    client.force_login(bob)
    response = client.post(move_url(bob_scratch), {"run": ["p1", "p2"], "target": bert.path})
    assert response.url == "/example-team/bert/"
    assert set(bert.runs.values_list("run_id", flat=True)) == {"p1", "p2"}
    events = run_events()
    assert [(e["entity__name"], e["verb"], e["details"]["count"]) for e in events] == [
        ("bob", "runs.moved_out", 2),
        ("example-team", "runs.moved_in", 2),
    ]


def test_others_cannot_move_runs_out_of_a_personal_project(client, alice, bob, bob_scratch):
    RunFactory(project=bob_scratch, run_id="p1", author=bob)
    ProjectFactory(entity=alice.personal_entity, creator=alice, name="mine")
    client.force_login(alice)
    response = client.post(move_url(bob_scratch), {"run": ["p1"], "target": "alice/mine"})
    assert response.status_code == 404
    assert placement() == {"p1": "bob/scratch"}


# Move: all or nothing


def test_clashing_run_ids_move_nothing_and_are_named(client, alice, bob, resnet, bert):
    RunFactory(project=bert, run_id="b1", author=bob)
    RunFactory(project=bert, run_id="a2", author=bob)
    client.force_login(alice)
    before = placement_list()
    response = client.post(
        move_url(resnet), {"run": ["a1", "a2", "b1", "b2"], "target": "example-team/bert"}
    )
    assert response.url == "/example-team/resnet/"
    assert messages_of(response) == [
        "example-team/bert already has runs with these ids: a2, b1. Nothing was moved."
    ]
    assert placement_list() == before
    assert run_events() == []


def test_many_clashes_are_counted_not_all_listed(client, alice, resnet, bert):
    for i in range(13):
        RunFactory(project=resnet, run_id=f"c{i:02d}", author=alice)
        RunFactory(project=bert, run_id=f"c{i:02d}", author=alice)
    client.force_login(alice)
    response = client.post(
        move_url(resnet), {"select_all": "1", "q": "c", "target": "example-team/bert"}
    )
    shown = ", ".join(f"c{i:02d}" for i in range(10))
    assert messages_of(response) == [
        f"example-team/bert already has runs with these ids: {shown} and 3 more. Nothing was moved."
    ]
    assert resnet.runs.count() == 17


def test_select_all_moves_exactly_the_matching_runs_on_every_page(client, alice, bob, resnet, bert):
    Run.objects.bulk_create(
        RunFactory.build(
            project=resnet,
            run_id=f"s{i:03d}",
            author=[alice, bob][i % 2],
            state=["finished", "failed", "running", "crashed"][i % 4],
        )
        for i in range(120)
    )
    failed = set(resnet.runs.filter(state="failed").values_list("run_id", flat=True))
    assert len(failed) == 30
    client.force_login(alice)
    # The ticked boxes of the current page are ignored once "select all" is on.
    response = client.post(
        move_url(resnet),
        {"select_all": "1", "state": "failed", "run": ["a1"], "target": "example-team/bert"},
    )
    assert messages_of(response) == ["Moved 30 runs to example-team/bert."]
    assert set(bert.runs.values_list("run_id", flat=True)) == failed
    assert resnet.runs.count() == 124 - 30
    assert run_events()[0]["details"] == {"count": 30, "to": "example-team/bert"}


def test_select_all_by_a_member_is_refused_when_the_filter_matches_others_runs(
    client, bob, resnet, bert
):
    client.force_login(bob)
    before = placement()
    response = client.post(
        move_url(resnet), {"select_all": "1", "state": "finished", "target": "example-team/bert"}
    )
    assert "2 of the 4 selected runs belong to other people" in messages_of(response)[0]
    assert placement() == before
    # Narrowed to their own runs, it goes through.
    response = client.post(
        move_url(resnet), {"select_all": "1", "author": "bob", "target": "example-team/bert"}
    )
    assert messages_of(response)[-1] == "Moved 2 runs to example-team/bert."


def test_the_table_form_moves_what_it_names(client, alice, resnet, bert):
    """The bulk form as the table renders it (hidden filter fields, select_all, next) moves the
    filtered runs."""
    client.force_login(alice)
    page = client.get(f"/{resnet.path}/", {"author": "bob"}).content.decode()
    form = page[page.index('<form method="post"') : page.index("</form>", page.index('id="bulk"'))]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields = {key: html.unescape(value) for key, value in fields.items()}
    assert fields["author"] == "bob"
    assert fields["next"] == "/example-team/resnet/?author=bob"
    response = client.post(
        move_url(resnet), {**fields, "select_all": "1", "target": "example-team/bert"}
    )
    assert response.url == "/example-team/bert/"
    assert set(bert.runs.values_list("run_id", flat=True)) == {"b1", "b2"}


# Move into a new project


def test_move_into_a_new_project_creates_it(client, alice, resnet):
    client.force_login(alice)
    response = client.post(
        move_url(resnet),
        {"run": ["a1", "b1"], "target": "__new__", "new_entity": "example-team", "new_name": "v2"},
    )
    assert response.url == "/example-team/v2/"
    created = Project.objects.get(entity__name="example-team", name="v2")
    assert created.created_by == alice
    assert created.visibility == Project.Visibility.TEAM
    assert set(created.runs.values_list("run_id", flat=True)) == {"a1", "b1"}
    assert AuditEvent.objects.filter(verb=AuditEvent.Verb.PROJECT_CREATED, target="v2").exists()


def test_move_into_a_new_personal_project(client, bob, resnet):
    client.force_login(bob)
    response = client.post(
        move_url(resnet),
        {"run": ["b1"], "target": "__new__", "new_entity": "bob", "new_name": "mine"},
    )
    assert response.url == "/bob/mine/"
    assert placement()["b1"] == "bob/mine"


def test_refused_move_does_not_create_the_new_project(client, bob, resnet):
    client.force_login(bob)
    before = placement()
    response = client.post(
        move_url(resnet),
        {"run": ["a1"], "target": "__new__", "new_entity": "example-team", "new_name": "v2"},
    )
    assert "belong to other people" in messages_of(response)[0]
    assert placement() == before
    assert not Project.objects.filter(name="v2").exists()
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.PROJECT_CREATED, target="v2")


@pytest.mark.parametrize(
    ("new_entity", "new_name", "message"),
    [
        ("open-team", "v2", "Choose where the new project goes."),
        ("nobody", "v2", "Choose where the new project goes."),
        ("example-team", "settings", "“settings” is reserved. Choose another name."),
        ("example-team", "RESNET", "example-team already has a project named “RESNET”."),
        ("example-team", "no spaces", None),
        ("example-team", "", None),
    ],
)
def test_new_project_must_be_valid(client, alice, resnet, new_entity, new_name, message):
    client.force_login(alice)
    before = placement()
    projects = set(Project.objects.values_list("pk", flat=True))
    response = client.post(
        move_url(resnet),
        {"run": ["a1"], "target": "__new__", "new_entity": new_entity, "new_name": new_name},
    )
    assert response.url == "/example-team/resnet/"
    if message:
        assert messages_of(response) == [message]
    else:
        assert messages_of(response)[0].startswith("Use up to 128 letters")
    assert placement() == before
    assert set(Project.objects.values_list("pk", flat=True)) == projects


# Where the browser goes back to


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/x",
        "http://testserver.evil.example/",
        "javascript:x",
    ],
)
def test_next_never_leaves_the_site(client, bob, resnet, bert, next_url):
    client.force_login(bob)
    response = client.post(move_url(resnet), {"run": ["a1"], "target": bert.path, "next": next_url})
    assert response.url == "/example-team/resnet/"
    response = client.post(delete_url(resnet), {"run": ["a1"], "confirm": "1", "next": next_url})
    assert response.url == "/example-team/resnet/"
    assert run_count() == 4


def test_next_on_the_site_is_followed(client, bob, resnet, bert):
    client.force_login(bob)
    next_url = "/example-team/resnet/?state=finished&sort=name"
    response = client.post(move_url(resnet), {"run": ["a1"], "target": bert.path, "next": next_url})
    assert response.url == next_url


# Delete


def test_delete_asks_for_confirmation_first(client, alice, resnet):
    client.force_login(alice)
    response = client.post(
        delete_url(resnet), {"run": ["a1", "b2"], "next": "/example-team/resnet/"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Move 2 runs to the trash?" in body
    listed = " ".join(re.findall(r"<li>(.*?)</li>", body))
    # The list, not the whole body: the random CSRF token may contain "a2".
    assert "a1" in listed and "b2" in listed and "a2" not in listed
    assert run_count() == 4
    # The confirmation form carries the selection on, with confirm=1; posting it deletes.
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body)
    data = {}
    for key, value in fields:
        if key != "csrfmiddlewaretoken":
            data.setdefault(key, []).append(value)
    assert data == {"run": ["a1", "b2"], "next": ["/example-team/resnet/"], "confirm": ["1"]}
    response = client.post(delete_url(resnet), data)
    assert response.url == "/example-team/resnet/"
    assert messages_of(response) == ["Moved 2 runs to the trash: restorable for 30 days."]
    assert sorted(resnet.runs.values_list("run_id", flat=True)) == ["a2", "b1"]
    assert run_events() == [
        {
            "entity__name": "example-team",
            "actor_name": "alice",
            "verb": "runs.deleted",
            "target": "example-team/resnet",
            "details": {"count": 2},
        }
    ]


def test_delete_confirmation_of_select_all_counts_every_match(client, alice, resnet):
    Run.objects.bulk_create(
        RunFactory.build(project=resnet, run_id=f"s{i:03d}", author=alice, state="failed")
        for i in range(25)
    )
    client.force_login(alice)
    response = client.post(delete_url(resnet), {"select_all": "1", "state": "failed"})
    body = response.content.decode()
    assert "Move 25 runs to the trash?" in body
    assert len(response.context["sample"]) == 10
    assert "and 15 more" in body
    response = client.post(
        delete_url(resnet), {"select_all": "1", "state": "failed", "confirm": "1"}
    )
    assert messages_of(response) == ["Moved 25 runs to the trash: restorable for 30 days."]
    assert sorted(resnet.runs.values_list("run_id", flat=True)) == ["a1", "a2", "b1", "b2"]


def test_member_deletes_own_runs(client, bob, resnet):
    client.force_login(bob)
    response = client.post(delete_url(resnet), {"run": ["b1"], "confirm": "1"})
    assert messages_of(response) == ["Moved 1 run to the trash: restorable for 30 days."]
    assert not Run.objects.filter(run_id="b1").exists()
    assert run_events()[0]["details"] == {"count": 1}


def test_member_cannot_delete_someone_elses_run(client, bob, resnet):
    client.force_login(bob)
    before = placement()
    response = client.post(delete_url(resnet), {"run": ["b1", "a1"], "confirm": "1"})
    assert_refused(
        response,
        "You can only change runs you logged: 1 of the 2 selected runs belong to other people. "
        "Ask an admin of example-team.",
        before,
    )


def test_deleting_nothing_is_refused(client, alice, resnet):
    client.force_login(alice)
    response = client.post(delete_url(resnet), {"run": ["nope"], "confirm": "1"})
    assert messages_of(response) == ["No runs were selected."]
    assert run_count() == 4


def test_outsider_gets_404_on_delete(client, charlie, resnet):
    client.force_login(charlie)
    assert client.post(delete_url(resnet), {"run": ["a1"]}).status_code == 404
    assert client.post(delete_url(resnet), {"run": ["a1"], "confirm": "1"}).status_code == 404
    assert run_count() == 4


def test_outsider_cannot_delete_from_a_public_project(client, alice, charlie, open_project):
    RunFactory(project=open_project, run_id="o1", author=alice)
    client.force_login(charlie)
    response = client.post(delete_url(open_project), {"run": ["o1"], "confirm": "1"})
    assert messages_of(response) == ["Project not found."]
    assert open_project.runs.count() == 1


def test_anonymous_and_service_account_cannot_delete(client, sam, resnet):
    response = client.post(delete_url(resnet), {"run": ["a1"], "confirm": "1"})
    assert response.url == f"/accounts/login/?next={quote(delete_url(resnet))}"
    client.force_login(sam)
    response = client.post(delete_url(resnet), {"run": ["a1"], "confirm": "1"})
    assert response.url.startswith("/accounts/login/")
    with pytest.raises(RunsForbidden):
        services.runs_delete(actor=sam, project=resnet, runs=Run.objects.all())
    assert run_count() == 4
    assert run_events() == []


def test_a_selection_that_grows_while_moving_moves_nothing(monkeypatch, alice, resnet, bert):
    checked = services._runs_the_actor_may_change

    def check_then_log_one_more(actor, source, runs):
        rows = checked(actor, source, runs)
        Run.objects.create(project=source, run_id="logged-meanwhile", author=alice)
        return rows

    monkeypatch.setattr(services, "_runs_the_actor_may_change", check_then_log_one_more)
    before = Run.objects.filter(project=resnet).count()

    with pytest.raises(services.RunsError, match="changed while"):
        services.runs_move(
            actor=alice, source=resnet, runs=Run.objects.filter(project=resnet), target=bert
        )

    # The whole transaction rolled back, the run logged inside it included.
    assert Run.objects.filter(project=resnet).count() == before
    assert not Run.objects.filter(project=bert, author=alice).exists()
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.RUNS_MOVED_IN).exists()
