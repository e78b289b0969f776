"""Workspace panels: their parameters, the data each kind draws, the table's filter, who sees
them, a query count that grows with neither runs nor panels, and saved views that keep them.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie in no team."""

import json
import math
import statistics
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runs import panels
from runs.models import Run, SavedView
from runs.panel_figures import pearson
from runs.panels import Panel, PanelSpecError, parse_spec
from runs.panels_views import compose_spec
from runs.saved_views import saved_view_create
from tests.factories import ProjectFactory, RunFactory

# Parameters


@pytest.mark.parametrize(
    ("text", "panel"),
    [
        (
            "scatter:summary.loss:summary.val/acc:config.lr",
            Panel("scatter", x="summary.loss", y="summary.val/acc", color="config.lr"),
        ),
        ("scatter:summary.loss:config.lr", Panel("scatter", x="summary.loss", y="config.lr")),
        (
            "scatter:summary.a:summary.b:job_type",
            Panel("scatter", x="summary.a", y="summary.b", color="job_type"),
        ),
        (
            "parallel:config.lr,config.`opt:name`:summary.acc",
            Panel("parallel", axes=("config.lr", "config.opt:name"), metric="summary.acc"),
        ),
        ("bar:summary.acc:group", Panel("bar", metric="summary.acc", group="group")),
        ("bar:summary.acc:config.opt", Panel("bar", metric="summary.acc", group="config.opt")),
        ("correlation:summary.`val acc`", Panel("correlation", metric="summary.val acc")),
        (" Correlation : summary.acc ", Panel("correlation", metric="summary.acc")),
    ],
)
def test_valid_panels_parse_and_write_back_the_same(text, panel):
    assert parse_spec(text) == panel
    assert parse_spec(panel.spec()) == panel


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("pie:summary.acc", "not a panel kind"),
        ("scatter:summary.loss", "scatter:<x>:<y>"),
        ("scatter:loss:summary.acc", "config.loss or summary.loss"),
        ("scatter:summary.a:summary.b:author", "not a key"),
        ("bar:summary.acc:config.a exists or name", "not a key"),
        ("bar:summary.acc", "bar:<metric>:<group>"),
        ("correlation:summary.acc:extra", "correlation:<metric>"),
        ("correlation:", "metric is missing"),
        ("parallel:config.a,config.a:summary.acc", "each axis once"),
        ("parallel:config.a", "parallel:<axis>"),
        ("scatter:summary.`a:summary.b", "not closed"),
        ("correlation:state", "not a key"),
        ("x" * 1001, "longer than"),
    ],
)
def test_invalid_panels_say_what_is_wrong(text, message):
    with pytest.raises(PanelSpecError, match=message):
        parse_spec(text)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("scatter:parallelbarcorrelation.summary,`'\"\\ \x00é"), max_size=80
    )
)
def test_any_text_parses_or_says_why(text):
    try:
        panel = parse_spec(text)
    except PanelSpecError as error:
        assert str(error)
    else:
        assert parse_spec(panel.spec()) == panel


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s and "." not in s),
        min_size=1,
        max_size=3,
    )
)
def test_any_key_written_by_a_panel_reads_back(pieces):
    field = "summary." + ".".join(pieces)
    panel = Panel("correlation", metric=field)
    assert parse_spec(panel.spec()).metric == field


def test_the_add_form_fields_become_one_parameter():
    form = QueryDict(mutable=True)
    form.update({"kind": "parallel", "metric": "summary.acc", "x": "summary.ignored"})
    form.setlist("axes", ["config.lr", "config.`opt:name`"])
    assert compose_spec(form) == "parallel:config.lr,config.`opt:name`:summary.acc"
    bad = QueryDict("kind=scatter&x=summary.a&y=")
    assert compose_spec(bad) == "scatter:summary.a:"


# Data


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="sweep")


def make_runs(project, alice):
    """Nine finished runs over three optimisers, one failed run without metrics."""
    runs = []
    for index in range(9):
        lr = 0.001 * (index + 1)
        runs.append(
            RunFactory(
                project=project,
                run_id=f"r{index}",
                name=f"run-{index}",
                author=alice,
                group=["a", "b", "c"][index % 3],
                config={
                    "lr": lr,
                    "batch": [32, 64, 128][index % 3],
                    "opt": ["adam", "sgd", "adamw"][index % 3],
                    "model": {"depth": 10 + index * index},
                    "constant": 7,
                    "_wandb": {"cli_version": "0.19"},
                },
                summary={"acc": 0.5 + 0.04 * index + 0.01 * (index % 2), "loss": 1 / (index + 1)},
            )
        )
    runs.append(
        RunFactory(
            project=project,
            run_id="bad",
            name="broken",
            author=alice,
            state="failed",
            config={"lr": 0.5, "opt": "sgd"},
            summary={},
        )
    )
    return runs


def page(client, project, *specs, **params):
    url = reverse("project", args=[project.entity.name, project.name])
    return client.get(url, {"panel": list(specs), **params})


def figure(response, index=0):
    item = response.context["query_panels"][index]
    assert item.error == "", item.error
    html = response.content.decode()
    start = html.index(f'<script id="{item.figure_id}" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)]), item


def test_scatter_draws_numeric_pairs_coloured_by_text_with_run_links(client, project, alice, bob):
    runs = make_runs(project, alice)
    client.force_login(bob)
    spec, item = figure(page(client, project, "scatter:config.lr:summary.acc:config.opt"))
    traces = {trace["name"]: trace for trace in spec["data"]}
    assert sorted(traces) == ["adam", "adamw", "sgd"]
    points = {
        (x, y, name, url)
        for trace in spec["data"]
        for x, y, name, url in zip(
            trace["x"], trace["y"], trace["text"], trace["customdata"], strict=True
        )
    }
    assert points == {
        (run.config["lr"], run.summary["acc"], run.name, run.get_absolute_url())
        for run in runs
        if "acc" in run.summary
    }
    assert item.figure.runs == 9
    assert "1 run without numbers for both config.lr and summary.acc left out." in (
        item.figure.notes
    )


def test_scatter_with_a_numeric_colour_uses_a_colour_scale(client, project, alice, bob):
    make_runs(project, alice)
    client.force_login(bob)
    spec, _ = figure(page(client, project, "scatter:config.lr:summary.acc:config.batch"))
    [trace] = spec["data"]
    assert trace["marker"]["showscale"] is True
    assert sorted(set(trace["marker"]["color"])) == [32, 64, 128]


def test_parallel_draws_a_line_per_run_across_the_axes_to_the_metric(client, project, alice, bob):
    runs = make_runs(project, alice)
    client.force_login(bob)
    spec, item = figure(page(client, project, "parallel:config.lr,config.opt:summary.acc"))
    *lines, scale = spec["data"]
    assert spec["layout"]["xaxis"]["ticktext"] == ["config.lr", "config.opt", "summary.acc"]
    ticks = {note["text"] for note in spec["layout"]["annotations"] if note["x"] == 1}
    assert ticks == {"adam", "adamw", "sgd"}  # the text axis, its values in order
    finished = {run.name: run for run in runs if run.summary}
    lowest = min(run.summary["acc"] for run in finished.values())
    highest = max(run.summary["acc"] for run in finished.values())
    assert (scale["marker"]["cmin"], scale["marker"]["cmax"]) == (lowest, highest)
    drawn = {}
    for trace in lines:
        points = zip(trace["x"], trace["y"], trace["text"], trace["customdata"], strict=True)
        for x, y, text, url in points:
            if x is not None:
                drawn.setdefault(text.split("<br>")[0], {})[x] = (y, url)
    assert set(drawn) == set(finished)
    for name, heights in drawn.items():
        run = finished[name]
        lr, opt, acc = (heights[position][0] for position in range(3))
        assert lr == pytest.approx((run.config["lr"] - 0.001) / (0.009 - 0.001))
        assert opt == {"adam": 0.0, "adamw": 0.5, "sgd": 1.0}[run.config["opt"]]
        assert acc == pytest.approx((run.summary["acc"] - lowest) / (highest - lowest))
        assert heights[0][1] == run.get_absolute_url()
    # The best run's line has the brightest colour of the scale.
    best = max(finished.values(), key=lambda run: run.summary["acc"])
    [bright] = [trace for trace in lines if best.name in " ".join(filter(None, trace["text"]))]
    assert bright["line"]["color"] == "#fde725"
    assert item.figure.runs == 9


def test_bar_shows_mean_standard_error_and_count_per_group(client, project, alice, bob):
    runs = make_runs(project, alice)
    client.force_login(bob)
    spec, _ = figure(page(client, project, "bar:summary.acc:config.opt"))
    [trace] = spec["data"]
    assert trace["x"] == ["adam", "adamw", "sgd"]
    for group, mean, error, (count, error_again) in zip(
        trace["x"], trace["y"], trace["error_y"]["array"], trace["customdata"], strict=True
    ):
        values = [r.summary["acc"] for r in runs if r.config["opt"] == group and r.summary]
        assert count == len(values) == 3
        assert mean == pytest.approx(statistics.mean(values))
        assert error == error_again == pytest.approx(statistics.stdev(values) / math.sqrt(3))


def test_bar_groups_by_run_group(client, project, alice, bob):
    make_runs(project, alice)
    client.force_login(bob)
    spec, _ = figure(page(client, project, "bar:summary.loss:group"))
    assert spec["data"][0]["x"] == ["a", "b", "c"]


def test_correlation_of_each_numeric_config_key_sorted_by_strength(client, project, alice, bob):
    runs = make_runs(project, alice)
    client.force_login(bob)
    spec, item = figure(page(client, project, "correlation:summary.acc"))
    [trace] = spec["data"]
    finished = [run for run in runs if run.summary]
    expected = {}
    for name, pick in {
        "config.lr": lambda c: c["lr"],
        "config.batch": lambda c: c["batch"],
        "config.model.depth": lambda c: c["model"]["depth"],
    }.items():
        xs = [pick(run.config) for run in finished]
        expected[name] = statistics.correlation(xs, [run.summary["acc"] for run in finished])
    assert sorted(trace["y"]) == sorted(expected)
    for name, r, count in zip(trace["y"], trace["x"], trace["customdata"], strict=True):
        assert r == pytest.approx(expected[name])
        assert count == 9
    assert [abs(r) for r in trace["x"]] == sorted((abs(r) for r in trace["x"]), reverse=True)
    notes = " ".join(item.figure.notes)
    assert "Not numeric, left out: opt." in notes
    assert "constant" in notes.lower() and "_wandb" not in notes


def test_pearson_matches_the_standard_library():
    pairs = [(1.0, 2.0), (2.0, 2.5), (3.0, 7.0), (4.0, 1.0)]
    xs, ys = zip(*pairs, strict=True)
    assert pearson(pairs) == pytest.approx(statistics.correlation(xs, ys))
    assert pearson([(1.0, 2.0), (1.0, 3.0), (1.0, 4.0)]) is None


def test_panels_honour_the_table_filter(client, project, alice, bob):
    make_runs(project, alice)
    client.force_login(bob)
    response = page(client, project, "scatter:config.lr:config.lr", q="config.opt = sgd")
    spec, _ = figure(response)
    assert sorted(spec["data"][0]["text"]) == ["broken", "run-1", "run-4", "run-7"]
    response = page(client, project, "scatter:config.lr:config.lr", state="failed")
    spec, _ = figure(response)
    assert spec["data"][0]["text"] == ["broken"]


def test_a_bad_query_is_said_on_the_panels_which_show_the_runs_without_it(
    client, project, alice, bob
):
    make_runs(project, alice)
    client.force_login(bob)
    response = page(client, project, "scatter:config.lr:config.lr", q="config.lr >")
    spec, _ = figure(response)
    assert len(spec["data"][0]["x"]) == 10
    assert "The panels show the runs without it." in response.content.decode()


def test_a_bad_panel_gets_a_message_and_the_others_still_draw(client, project, alice, bob):
    make_runs(project, alice)
    client.force_login(bob)
    response = page(client, project, "pie:summary.acc", "correlation:summary.acc")
    assert response.status_code == 200
    bad = response.context["query_panels"][0]
    assert "not a panel kind" in bad.error
    assert "This panel cannot be drawn: “pie” is not a panel kind" in response.content.decode()
    figure(response, 1)


def test_the_remove_link_drops_only_its_panel(client, project, alice, bob):
    make_runs(project, alice)
    client.force_login(bob)
    response = page(client, project, "correlation:summary.acc", "bar:summary.acc:group", q="x")
    second = response.context["query_panels"][1]
    assert parse_qs(second.remove_query) == {"panel": ["correlation:summary.acc"], "q": ["x"]}


def test_the_add_form_redirects_to_the_page_with_one_more_panel(client, project, alice, bob):
    client.force_login(bob)
    url = reverse("runs:panel_add", args=[project.entity.name, project.name])
    state = "q=config.lr+%3E+0&panel=correlation%3Asummary.acc&cursor=abc"
    response = client.get(
        url,
        {"page": state, "kind": "scatter", "x": "config.lr", "y": "summary.acc", "color": ""},
    )
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("project", args=[project.entity.name, project.name])
    assert parse_qs(target.query) == {
        "q": ["config.lr > 0"],
        "panel": ["correlation:summary.acc", "scatter:config.lr:summary.acc"],
    }


def test_at_most_max_panels(client, project, alice, bob):
    client.force_login(bob)
    url = reverse("runs:panel_add", args=[project.entity.name, project.name])
    state = "&".join(["panel=correlation%3Asummary.acc"] * panels.MAX_PANELS)
    response = client.get(url, {"page": state, "kind": "correlation", "metric": "summary.x"})
    assert (
        parse_qs(urlsplit(response["Location"]).query)["panel"]
        == ["correlation:summary.acc"] * panels.MAX_PANELS
    )


def test_the_cap_is_stated_when_more_runs_match(client, project, alice, bob, monkeypatch):
    make_runs(project, alice)
    monkeypatch.setattr(panels, "RUN_CAP", 4)
    client.force_login(bob)
    response = page(client, project, "scatter:config.lr:config.lr")
    spec, _ = figure(response)
    # The four most recent runs.
    assert sorted(spec["data"][0]["text"]) == ["broken", "run-6", "run-7", "run-8"]
    assert "More than 4 runs match: the panels show the 4 most recent." in (
        response.content.decode()
    )


def test_the_table_swap_brings_the_panels_along(client, project, alice, bob):
    make_runs(project, alice)
    client.force_login(bob)
    url = reverse("project", args=[project.entity.name, project.name])
    response = client.get(
        url,
        {"panel": "scatter:config.lr:config.lr", "q": "config.opt = sgd"},
        headers={"HX-Request": "true", "HX-Target": "runs-region"},
    )
    html = response.content.decode()
    assert 'id="query-panels"' in html and 'hx-swap-oob="true"' in html
    spec, _ = figure(response)
    assert len(spec["data"][0]["x"]) == 4
    # The filter form carries the panels, so applying a filter keeps them.
    assert '<input type="hidden" name="panel" value="scatter:config.lr:config.lr">' in html


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from("scatterbarcorrelationparallel:.,`summaryconfiglr/ \\é"),
            max_size=60,
        ),
        max_size=3,
    )
)
def test_any_panel_parameters_give_a_page(client, project, alice, bob, specs):
    if not Run.objects.filter(project=project).exists():
        make_runs(project, alice)
    client.force_login(bob)
    response = page(client, project, *specs)
    assert response.status_code == 200
    assert len(response.context["query_panels"]) == len(specs)


# Who sees them


def test_outsider_gets_404_on_the_page_and_the_add_form(client, project, alice, charlie):
    make_runs(project, alice)
    client.force_login(charlie)
    assert page(client, project, "correlation:summary.acc").status_code == 404
    url = reverse("runs:panel_add", args=[project.entity.name, project.name])
    assert client.get(url, {"kind": "correlation", "metric": "summary.acc"}).status_code == 404
    client.logout()
    assert client.get(url, {"kind": "correlation", "metric": "summary.acc"}).status_code == 404


# Cost


ALL_KINDS = [
    "scatter:config.lr:summary.acc:config.opt",
    "parallel:config.lr,config.opt:summary.acc",
    "bar:summary.acc:group",
    "correlation:summary.acc",
]


def bulk_runs(project, alice, count):
    Run.objects.bulk_create(
        RunFactory.build(
            project=project,
            author=alice,
            config={"lr": 0.01 * i, "opt": ["a", "b"][i % 2]},
            summary={"acc": (i * 7 % 11) / 11},
            group=f"g{i % 3}",
        )
        for i in range(count)
    )


@pytest.mark.parametrize("count", [3, 30])
def test_panels_cost_one_query_whatever_the_number_of_runs_and_panels(
    client, project, alice, bob, count, django_assert_num_queries
):
    bulk_runs(project, alice, count)
    client.force_login(bob)
    page(client, project)  # warm process-wide caches, as in a server
    with CaptureQueriesContext(connection) as without:
        assert page(client, project).status_code == 200
    base = len(without.captured_queries)
    with django_assert_num_queries(base + 1):
        assert page(client, project, ALL_KINDS[0]).status_code == 200
    with django_assert_num_queries(base + 1):
        response = page(client, project, *ALL_KINDS, *ALL_KINDS)
    assert all(item.figure and item.figure.data for item in response.context["query_panels"])


# Saved views


def test_a_saved_view_keeps_and_restores_its_panels(client, project, alice, bob):
    state = (
        "q=config.lr+%3E+0&panel=scatter%3Aconfig.lr%3Asummary.acc&panel=correlation%3Asummary.acc"
    )
    view = saved_view_create(
        project=project,
        owner=bob,
        name="panels",
        shared=False,
        kind=SavedView.Kind.TABLE,
        state=state,
    )
    assert ["panel", "correlation:summary.acc"] in view.params
    client.force_login(bob)
    response = client.get(
        reverse("runs:view_open", args=[project.entity.name, project.name, view.key])
    )
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["panel"] == ["scatter:config.lr:summary.acc", "correlation:summary.acc"]
    assert query["q"] == ["config.lr > 0"]
