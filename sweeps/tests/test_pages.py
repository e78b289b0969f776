"""The sweep pages: who sees them, who may pause, resume, stop or cancel, what they show, and
that their queries do not grow with the runs or agents of a sweep."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from runs.models import Run
from sweeps import services, views
from sweeps.models import Sweep, SweepAgent
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

S = Sweep.State
CONFIG = """\
method: random
metric:
  name: loss
  goal: minimize
parameters:
  lr:
    min: 0.001
    max: 0.1
  layers:
    values: [1, 2, 3]
"""


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="tuning")


@pytest.fixture
def sweep(project, bob):
    return services.sweep_create(
        actor=bob, project=project, config_yaml=CONFIG, display_name="lr search"
    )


def fill(sweep, runs: int, agents: int):
    """`runs` runs linked to the sweep (loss 1/(i+1): the last is best) and `agents` agents
    that beat a few seconds ago."""
    made = Run.objects.bulk_create(
        RunFactory.build(
            project=sweep.project,
            config={"lr": 0.001 * (i + 1), "layers": 1 + i % 3},
            summary={"loss": 1 / (i + 1)},
        )
        for i in range(runs)
    )
    for run in made:
        services.link_run(run=run, sweep_name=sweep.name)
    for i in range(agents):
        services.agent_create(actor=sweep.author, sweep=sweep, host=f"host-{i}")
    SweepAgent.objects.filter(sweep=sweep).update(heartbeat_at=timezone.now())
    return made


def list_url(project):
    return reverse("sweeps:list", args=[project.entity.name, project.name])


def detail_url(sweep):
    return reverse(
        "sweeps:detail", args=[sweep.project.entity.name, sweep.project.name, sweep.name]
    )


def state_url(sweep):
    return reverse("sweeps:state", args=[sweep.project.entity.name, sweep.project.name, sweep.name])


# --- access ------------------------------------------------------------------------------------


def test_outsider_gets_404_on_both_pages(client, charlie, sweep):
    client.force_login(charlie)
    assert client.get(list_url(sweep.project)).status_code == 404
    assert client.get(detail_url(sweep)).status_code == 404
    assert client.post(state_url(sweep), {"action": "pause"}).status_code == 404
    sweep.refresh_from_db()
    assert sweep.state == S.PENDING


def test_anonymous_is_sent_to_login_for_a_state_change(client, sweep):
    response = client.post(state_url(sweep), {"action": "pause"})
    assert response.status_code == 302 and "/accounts/login/" in response.url
    sweep.refresh_from_db()
    assert sweep.state == S.PENDING


def test_unknown_sweep_is_404(client, bob, project):
    client.force_login(bob)
    url = reverse("sweeps:detail", args=[project.entity.name, project.name, "nosuch00"])
    assert client.get(url).status_code == 404


def test_public_project_shows_its_sweeps_to_anonymous_visitors(client, public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    sweep = services.sweep_create(actor=alice, project=project, config_yaml=CONFIG)
    assert sweep.name in client.get(list_url(project)).content.decode()
    page = client.get(detail_url(sweep)).content.decode()
    assert f"wandb agent open-team/open/{sweep.name}" in page
    assert 'id="sweep-controls"' not in page


# --- controls ----------------------------------------------------------------------------------


def test_author_pauses_resumes_and_stops(client, bob, sweep):
    client.force_login(bob)
    page = client.get(detail_url(sweep)).content.decode()
    assert 'value="pause"' in page and 'value="cancel"' in page
    response = client.post(state_url(sweep), {"action": "pause"}, follow=True)
    sweep.refresh_from_db()
    assert sweep.state == S.PAUSED
    assert "The sweep is paused." in response.content.decode()
    assert 'value="resume"' in response.content.decode()
    client.post(state_url(sweep), {"action": "resume"})
    sweep.refresh_from_db()
    assert sweep.state == S.RUNNING
    client.post(state_url(sweep), {"action": "stop"})
    sweep.refresh_from_db()
    assert sweep.state == S.FINISHED


def test_a_finished_sweep_offers_resume_only_while_points_remain(client, bob, project):
    grid = "method: grid\nparameters:\n  lr:\n    values: [0.1, 0.01]\n"
    sweep = services.sweep_create(actor=bob, project=project, config_yaml=grid)
    client.force_login(bob)
    client.post(state_url(sweep), {"action": "stop"})
    assert 'value="resume"' in client.get(detail_url(sweep)).content.decode()
    sweep.refresh_from_db()
    sweep.grid_cursor = sweep.grid_size  # every point handed out
    sweep.save(update_fields=["grid_cursor"])
    assert 'value="resume"' not in client.get(detail_url(sweep)).content.decode()


def test_admin_cancels_a_members_sweep(client, alice, sweep):
    client.force_login(alice)
    assert 'value="cancel"' in client.get(detail_url(sweep)).content.decode()
    client.post(state_url(sweep), {"action": "cancel"})
    sweep.refresh_from_db()
    assert sweep.state == S.CANCELED


def test_other_member_sees_no_buttons_and_gets_403(client, erin, sweep):
    client.force_login(erin)
    page = client.get(detail_url(sweep)).content.decode()
    assert 'id="sweep-controls"' not in page
    assert client.post(state_url(sweep), {"action": "pause"}).status_code == 403
    sweep.refresh_from_db()
    assert sweep.state == S.PENDING


def test_refused_move_shows_the_services_message(client, bob, sweep):
    Sweep.objects.filter(pk=sweep.pk).update(state=S.FINISHED)
    client.force_login(bob)
    response = client.post(state_url(sweep), {"action": "pause"}, follow=True)
    assert "Cannot pause a finished sweep." in response.content.decode()
    sweep.refresh_from_db()
    assert sweep.state == S.FINISHED


def test_unknown_action_changes_nothing(client, bob, sweep):
    client.force_login(bob)
    response = client.post(state_url(sweep), {"action": "explode"}, follow=True)
    assert "Choose pause, resume, stop or cancel." in response.content.decode()
    sweep.refresh_from_db()
    assert sweep.state == S.PENDING


def test_state_change_is_post_only(client, bob, sweep):
    client.force_login(bob)
    assert client.get(state_url(sweep)).status_code == 405


# --- content -----------------------------------------------------------------------------------


def test_empty_list_says_how_to_start_a_sweep(client, bob, project):
    client.force_login(bob)
    page = client.get(list_url(project)).content.decode()
    assert 'id="no-sweeps"' in page and "wandb sweep" in page


def test_list_shows_state_method_runs_best_and_author(client, bob, sweep):
    fill(sweep, runs=4, agents=0)
    client.force_login(bob)
    page = client.get(list_url(sweep.project)).content.decode()
    row = page.split(f'id="sweep-{sweep.name}"')[1].split("</tr>")[0]
    assert "lr search" in row and "Pending" in row and "random" in row
    assert "<td>4</td>" in row
    assert "0.25" in row  # the lowest loss: 1/4
    assert "bob" in row


def test_a_sweep_is_called_by_its_display_name_then_its_configs_name_then_its_id(
    client, bob, project
):
    named = services.sweep_create(
        actor=bob, project=project, config_yaml="name: warmup grid\n" + CONFIG
    )
    plain = services.sweep_create(actor=bob, project=project, config_yaml=CONFIG)
    renamed = services.sweep_create(
        actor=bob, project=project, config_yaml="name: warmup\n" + CONFIG, display_name="final"
    )
    client.force_login(bob)
    page = client.get(list_url(project)).content.decode()

    def link_text(sweep):
        return page.split(f'id="sweep-{sweep.name}"')[1].split("</a>")[0].rsplit(">", 1)[1]

    assert [link_text(s) for s in (named, plain, renamed)] == ["warmup grid", plain.name, "final"]
    assert f'<span class="muted">{named.name}</span>' in page
    assert f'<span class="muted">{plain.name}</span>' not in page
    detail = client.get(detail_url(named)).content.decode()
    assert "<h1>warmup grid" in detail


def test_list_pages_newest_first(client, bob, project, monkeypatch):
    monkeypatch.setattr(views, "SWEEPS_PER_PAGE", 2)
    made = [services.sweep_create(actor=bob, project=project, config_yaml=CONFIG) for _ in range(3)]
    client.force_login(bob)

    first = client.get(list_url(project)).content.decode()
    assert "3 sweeps, page 1 of 2" in first
    assert [f'id="sweep-{sweep.name}"' in first for sweep in made] == [False, True, True]
    assert 'href="?page=2" rel="next"' in first

    second = client.get(list_url(project) + "?page=2").content.decode()
    assert [f'id="sweep-{sweep.name}"' in second for sweep in made] == [True, False, False]
    assert 'href="?page=1" rel="prev"' in second
    # A page past the end shows the last one, as every list of the site does.
    assert (
        f'id="sweep-{made[0].name}"' in client.get(list_url(project) + "?page=9").content.decode()
    )


def test_grid_sweep_lists_runs_of_expected(client, bob, project):
    grid = services.sweep_create(
        actor=bob, project=project, config_yaml="method: grid\nparameters: {a: {values: [1, 2, 3]}}"
    )
    client.force_login(bob)
    row = client.get(list_url(project)).content.decode().split(f'id="sweep-{grid.name}"')[1]
    assert "<td>0 / 3</td>" in row.split("</tr>")[0]


def test_detail_shows_header_command_config_best_figure_runs_and_agents(client, bob, sweep):
    runs = fill(sweep, runs=3, agents=2)
    client.force_login(bob)
    page = client.get(detail_url(sweep)).content.decode()
    assert "lr search" in page and 'id="sweep-state"' in page and "Pending" in page
    assert "loss (minimize)" in page
    assert f"wandb agent example-team/tuning/{sweep.name}" in page
    assert 'data-copy="#agent-command"' in page
    assert "max: 0.1" in page  # the YAML as sent
    best = runs[-1]
    best_section = page.split('id="sweep-best"')[1].split("</section>")[0]
    assert best.get_absolute_url() in best_section and "0.333" in best_section
    assert 'id="sweep-parallel-figure"' in page and '"type": "scatter"' in page
    assert "3 runs." in page
    for run in runs:
        assert run.get_absolute_url() in page
    assert "sweep+%3D+%22" + sweep.name + "%22" in page  # the runs table, filtered
    assert "host-0" in page and "host-1" in page and " ago</time>" in page


def test_runs_table_is_paginated_at_50(client, bob, sweep):
    runs = fill(sweep, runs=51, agents=0)
    client.force_login(bob)
    first = client.get(detail_url(sweep)).content.decode()
    table = first.split('id="sweep-runs"')[1].split("</section>")[0]
    assert "Page 1 of 2" in table
    assert runs[0].get_absolute_url() in table and runs[50].get_absolute_url() not in table
    second = client.get(detail_url(sweep), {"page": 2}).content.decode()
    table = second.split('id="sweep-runs"')[1].split("</section>")[0]
    assert runs[50].get_absolute_url() in table and runs[0].get_absolute_url() not in table


def test_project_page_links_to_sweeps(client, bob, project):
    client.force_login(bob)
    page = client.get(project.get_absolute_url()).content.decode()
    assert f'href="{list_url(project)}"' in page


# --- queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["list", "detail"])
def test_queries_do_not_grow_with_runs_and_agents(
    client, bob, project, which, django_assert_num_queries
):
    small = services.sweep_create(actor=bob, project=project, config_yaml=CONFIG)
    fill(small, runs=2, agents=2)
    client.force_login(bob)
    url = list_url(project) if which == "list" else detail_url(small)
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    # Kept now: a later request empties the connection's query log the context slices.
    small_count = len(captured)
    assert small_count > 5, "the page reads its project, sweep, runs and agents"
    other = ProjectFactory(entity=project.entity, creator=bob, name="tuning-big")
    big = services.sweep_create(actor=bob, project=other, config_yaml=CONFIG)
    fill(big, runs=20, agents=20)
    url = list_url(other) if which == "list" else detail_url(big)
    client.get(url)
    with django_assert_num_queries(small_count):
        assert client.get(url).status_code == 200
