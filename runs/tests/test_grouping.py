"""Grouping the runs table (`?group=`): groups by config keys (nested
ones too), the run's group, job type and tags, with the count and the mean, standard deviation,
lowest and highest value of metrics per group computed by the database; a row per group that
links to the table filtered to it by a real query; runs without the key in a group of their own;
the filters honoured; bad keys ignored with a message; fixed query counts; saved views."""

import html
import math
import re
import statistics
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs import grouping
from runs.models import Run, SavedView
from runs.selectors import RunFilter, json_column_value
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

OPTIMIZERS = ["adam", "sgd", "adamw"]
LEARNING_RATES = [0.1, 0.01, 0.001]
JOB_TYPES = ["train", "eval"]
TAG_SETS = [["baseline"], ["v2", "sweep"], [], ["sweep"]]


@pytest.fixture
def project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


def make_runs(project, author, count):
    """Runs whose keys repeat with different periods, so groups differ in size; every fifth
    run lacks `lr` (and its loss), every seventh holds its loss as text."""
    runs = []
    for i in range(count):
        config = {"optimizer": {"name": OPTIMIZERS[i % 3]}, "epochs": 10}
        summary = {"acc": (i * 7 % 11) / 11}
        if i % 5:
            config["lr"] = LEARNING_RATES[i % 3 if i % 2 else 0]
            summary["loss"] = "high" if i % 7 == 0 else round((i * 37) % 50 / 10, 1)
        runs.append(
            RunFactory.build(
                project=project,
                run_id=f"r{i:04d}",
                author=author,
                state="finished" if i % 4 else "failed",
                group=f"exp-{i % 2}" if i % 6 else "",
                job_type=JOB_TYPES[i % 2],
                tags=TAG_SETS[i % 4],
                config=config,
                summary=summary,
            )
        )
    return Run.objects.bulk_create(runs)


@pytest.fixture
def runs(project, alice):
    return make_runs(project, alice, 60)


def url_of(project):
    return f"/{project.entity.name}/{project.name}/"


# Expected groups, computed in Python from the runs


def missing():
    return grouping.GroupValue("missing")


def value_of(run, field):
    """A run's GroupValue for one key, as the database should find it."""
    if field in ("group", "job_type"):
        text = getattr(run, field)
        return grouping.GroupValue("string", text) if text else missing()
    if field == "config.lr" and "lr" not in run.config:
        return missing()
    value = json_column_value(run, field)
    if value is None:
        return missing()
    return grouping.GroupValue("number" if isinstance(value, (int, float)) else "string", value)


def expected_groups(runs, fields):
    groups = {}
    for run in runs:
        if fields == ["tags"]:
            keys = [(grouping.GroupValue("string", tag),) for tag in run.tags] or [(missing(),)]
        else:
            keys = [tuple(value_of(run, field) for field in fields)]
        for key in keys:
            groups.setdefault(key, []).append(run)
    return groups


def stats(runs, metric):
    numbers = [
        value
        for run in runs
        if isinstance(value := json_column_value(run, metric), (int, float))
        and not isinstance(value, bool)
    ]
    if not numbers:
        return (0, None, None, None, None)
    return (
        len(numbers),
        statistics.fmean(numbers),
        statistics.pstdev(numbers),
        min(numbers),
        max(numbers),
    )


def assert_rows_match(rows, expected, metrics):
    assert {row.values: row.count for row in rows} == {
        key: len(members) for key, members in expected.items()
    }
    counts = [row.count for row in rows]
    assert counts == sorted(counts, reverse=True), "largest groups first"
    for row in rows:
        for metric, got in zip(metrics, row.metrics, strict=True):
            want = stats(expected[row.values], metric)
            assert got.count == want[0]
            for got_value, want_value in zip(
                (got.mean, got.std, got.min, got.max), want[1:], strict=True
            ):
                if want_value is None:
                    assert got_value is None
                else:
                    assert math.isclose(got_value, want_value, rel_tol=1e-9, abs_tol=1e-9)


def keys(*fields):
    return [grouping.GroupKey(field) for field in fields]


def project_runs(project):
    return Run.objects.filter(project=project)


# The aggregation


@pytest.mark.parametrize(
    "fields",
    [
        ["config.lr"],
        ["config.optimizer.name"],
        ["group"],
        ["job_type"],
        ["tags"],
        ["config.optimizer.name", "job_type"],
        ["config.lr", "group", "job_type"],
    ],
)
def test_groups_have_the_count_and_the_statistics_of_their_runs(project, runs, fields):
    metrics = ["summary.loss", "summary.acc", "config.epochs"]

    rows = grouping.group_rows(project_runs(project), keys(*fields), metrics, 500)

    assert_rows_match(rows, expected_groups(runs, fields), metrics)


def test_a_run_with_two_tags_is_in_both_groups_and_runs_without_tags_in_none(project, runs):
    rows = grouping.group_rows(project_runs(project), keys("tags"), [], 500)

    counts = {str(row.values[0]): row.count for row in rows}
    assert counts == {"sweep": 30, "baseline": 15, "v2": 15, "(none)": 15}
    assert sum(counts.values()) > len(runs)


def test_runs_without_the_key_form_their_own_group(project, runs):
    rows = grouping.group_rows(project_runs(project), keys("config.lr"), ["summary.loss"], 500)

    none = next(row for row in rows if row.values == (missing(),))
    assert none.count == 12
    assert none.metrics[0].count == 0 and none.metrics[0].mean is None
    assert none.query_text(keys("config.lr")) == "not config.lr exists"


def test_groups_sort_by_size_then_value_and_stop_at_the_limit(project, alice):
    for index, optimizer in enumerate(["c", "a", "b", "a", "b", "d"]):
        RunFactory(project=project, run_id=f"r{index}", config={"opt": optimizer})

    rows = grouping.group_rows(project_runs(project), keys("config.opt"), [], 3)

    assert [(str(row.values[0]), row.count) for row in rows] == [("a", 2), ("b", 2), ("c", 1)]


def test_numbers_group_as_numbers_and_true_apart_from_one(project):
    values = [1, 1.0, True, True, None, "1", {"a": 1}]
    for index, value in enumerate(values):
        RunFactory(project=project, run_id=f"r{index}", config={"x": value})

    rows = grouping.group_rows(project_runs(project), keys("config.x"), [], 50)

    found = {(row.values[0].kind, str(row.values[0])): row.count for row in rows}
    assert found == {
        ("number", "1"): 2,
        ("boolean", "true"): 2,
        ("null", "null"): 1,
        ("string", "1"): 1,
        ("object", '{"a": 1}'): 1,
    }


@pytest.mark.parametrize(
    "fields", [["config.lr", "tags"], ["group", "job_type", "config.optimizer.name"]]
)
def test_each_group_query_selects_exactly_its_runs(project, runs, fields):
    group_keys = keys(*fields)
    for row in grouping.group_rows(project_runs(project), group_keys, [], 500):
        text = row.query_text(group_keys)
        found = RunFilter(q=text).apply(project_runs(project)).count()
        assert found == row.count, text


def test_the_standard_deviation_is_not_lost_to_large_values(project):
    for index, loss in enumerate([1e6 + 0.5, 1e6 + 1.5, 1e6 + 2.5]):
        RunFactory(project=project, run_id=f"r{index}", config={"k": 1}, summary={"loss": loss})

    (row,) = grouping.group_rows(project_runs(project), keys("config.k"), ["summary.loss"], 5)

    assert math.isclose(row.metrics[0].std, statistics.pstdev([0.5, 1.5, 2.5]), rel_tol=1e-3)


# Parsing the keys


def test_group_keys_are_also_read_from_a_plain_dict():
    assert [key.field for key in grouping.parse_group_keys({"group": "tags,group"})[0]] == [
        "tags",
        "group",
    ]
    assert [key.field for key in grouping.parse_group_keys({"group": ["config.lr"]})[0]] == [
        "config.lr"
    ]
    assert grouping.parse_group_keys({}) == ([], None)


@pytest.mark.parametrize(
    ("values", "fields", "has_error"),
    [
        (["config.lr"], ["config.lr"], False),
        (["config.lr,tags", "group"], ["config.lr", "tags", "group"], False),
        (["job_type", "job_type"], ["job_type"], False),
        (["config.a.b"], ["config.a.b"], False),
        (["summary.loss", "tags"], ["tags"], True),
        (["config.", "config.a..b", "name"], [], True),
        (["group", "tags", "job_type", "config.lr"], ["group", "tags", "job_type"], True),
        ([""], [], False),
        (["config.a\x00", "config.\ud800"], [], True),
    ],
)
def test_group_keys_are_parsed_and_bad_ones_named(values, fields, has_error):
    from django.http import QueryDict

    params = QueryDict(mutable=True)
    params.setlist("group", values)

    found, error = grouping.parse_group_keys(params)

    assert [key.field for key in found] == fields
    assert (error is not None) == has_error


# The grouped table


def group_table(response):
    return response.context["grouping"]


def row_links(response):
    body = response.content.decode()
    table = body[body.index('id="grouped-table"') :]
    return [
        html.unescape(link)
        for link in re.findall(
            r'<td class="num"><a href="([^"]*)"', table[: table.index("</table>")]
        )
    ]


def test_member_groups_the_table_by_a_config_key(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(url_of(project), {"group": "config.lr", "col": "summary.loss"})

    assert response.status_code == 200
    table = group_table(response)
    assert [metric["key"] for metric in table.metrics] == ["summary.loss"]
    expected = expected_groups(runs, ["config.lr"])
    assert sorted((row["values_missing"][0][0], row["count"]) for row in table.rows) == sorted(
        (str(key[0]), len(members)) for key, members in expected.items()
    )
    body = response.content.decode()
    assert 'id="grouped-table"' in body and 'id="runs-table"' not in body
    for row in table.rows:
        value, is_missing = row["values_missing"][0]
        if is_missing:
            assert row["cells"] == ["", "", "", ""]  # the runs without lr have no loss
            continue
        want = stats(expected[(grouping.GroupValue("number", float(value)),)], "summary.loss")
        assert row["cells"] == [f"{number:.4g}" for number in want[1:]]


def test_every_group_row_links_to_the_table_filtered_to_that_group(client, bob, project, runs):
    client.force_login(bob)
    params = {
        "group": ["config.optimizer.name", "tags"],
        "state": "finished",
        "q": "summary.acc > 0.2",
    }

    response = client.get(url_of(project), params)

    table = group_table(response)
    links = row_links(response)
    assert len(links) == len(table.rows) > 4
    for row, link in zip(table.rows, links, strict=True):
        query = parse_qs(urlsplit(link).query)
        assert "group" not in query and query["state"] == ["finished"]
        assert query["q"][0].startswith("(summary.acc > 0.2) and config.optimizer.name = ")
        filtered = client.get(link)
        assert filtered.status_code == 200
        assert filtered.context["query_error"] is None
        assert filtered.context["page"].total == row["count"], query["q"][0]


def test_the_missing_group_shows_none_and_links_to_not_exists(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(url_of(project), {"group": "config.lr"})

    none = next(row for row in group_table(response).rows if row["values_missing"][0][1])
    assert none["values_missing"][0][0] == "(none)" and none["count"] == 12
    link = html.unescape(none["link"])
    assert parse_qs(link)["q"] == ["not config.lr exists"]
    assert client.get(url_of(project) + "?" + link).context["page"].total == 12


def test_the_filters_are_honoured(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(url_of(project), {"group": "job_type", "state": "failed", "tag": "sweep"})

    expected = expected_groups(
        [run for run in runs if run.state == "failed" and "sweep" in run.tags], ["job_type"]
    )
    assert {row["values_missing"][0][0]: row["count"] for row in group_table(response).rows} == {
        str(key[0]): len(members) for key, members in expected.items()
    }


def test_tags_grouping_says_a_run_counts_in_each_of_its_tags(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(url_of(project), {"group": "tags"})

    assert "counts in the group of each of its tags" in response.content.decode()
    links = {row["values_missing"][0][0]: row["link"] for row in group_table(response).rows}
    assert parse_qs(html.unescape(links["sweep"]))["q"] == ['tags has "sweep"']


def test_a_bad_group_key_is_ignored_with_a_message(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(url_of(project), {"group": ["summary.loss", "name;drop"]})

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="group-error"' in body and "Runs cannot be grouped by" in body
    assert 'id="runs-table"' in body and 'id="grouped-table"' not in body


def test_keys_the_database_cannot_take_are_refused_not_a_server_error(client, bob, project, runs):
    client.force_login(bob)
    chart = reverse("runs:project_metric_groups", args=[project.entity.name, project.name])

    table = client.get(url_of(project), {"group": "config.lr\x00"})
    data = client.get(chart, {"group": "config.lr\x00", "key": "loss"})

    # The site refuses a NUL in any parameter; grouping refuses it too (see the parsing test).
    assert table.status_code == 400
    assert data.status_code == 400


def test_a_bad_key_beside_good_ones_leaves_the_good_ones(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(url_of(project), {"group": ["summary.loss", "job_type"]})

    assert [key.field for key in group_table(response).keys] == ["job_type"]
    assert "Runs cannot be grouped by “summary.loss”" in response.content.decode()


def test_a_query_with_a_mistake_groups_the_runs_without_it(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(url_of(project), {"group": "job_type", "q": "summary.acc >"})

    assert response.context["query_error"] is not None
    assert sum(row["count"] for row in group_table(response).rows) == len(runs)


def test_too_many_groups_are_cut_and_the_page_says_so(client, bob, project, runs, monkeypatch):
    monkeypatch.setattr(grouping, "MAX_GROUPS", 2)
    client.force_login(bob)

    response = client.get(url_of(project), {"group": "config.lr"})

    assert len(group_table(response).rows) == 2 and group_table(response).more
    assert "Showing the 2 largest groups" in response.content.decode()


def test_the_group_by_select_offers_config_keys_and_keeps_the_other_params(
    client, bob, project, runs
):
    client.force_login(bob)

    response = client.get(url_of(project), {"group": "job_type", "col": "summary.acc"})

    body = response.content.decode()
    form = body[body.index('id="filters"') : body.index("</form>", body.index('id="filters"'))]
    assert '<option value="config.optimizer.name">' in form
    assert '<option value="tags">' in form
    assert '<input type="hidden" name="group" value="job_type">' in form
    assert '<input type="hidden" name="col" value="summary.acc">' in form


def test_without_columns_the_table_aggregates_the_common_summary_numbers(
    client, bob, project, runs
):
    client.force_login(bob)

    response = client.get(url_of(project), {"group": "job_type"})

    assert [metric["key"] for metric in group_table(response).metrics] == [
        "summary.acc",
        "summary.loss",
    ]


def test_outsiders_and_anonymous_visitors_get_404_on_a_private_project(
    client, charlie, project, runs
):
    chart = reverse("runs:project_metric_groups", args=[project.entity.name, project.name])
    for visitor in (charlie, None):
        client.logout()
        if visitor is not None:
            client.force_login(visitor)
        assert client.get(url_of(project), {"group": "job_type"}).status_code == 404
        assert client.get(chart, {"group": "job_type", "key": "loss"}).status_code == 404


def test_anonymous_visitors_group_a_public_project(client, public_team, alice):
    public = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    make_runs(public, alice, 10)

    response = client.get(url_of(public), {"group": "job_type"})

    assert response.status_code == 200
    assert {row["count"] for row in group_table(response).rows} == {5}


@pytest.mark.parametrize("size", [3, 30])
def test_the_grouped_table_costs_fixed_queries(
    client, bob, project, alice, size, django_assert_num_queries
):
    make_runs(project, alice, size)
    client.force_login(bob)
    params = {"group": ["config.lr", "tags"], "state": "finished"}
    client.get(url_of(project), params)  # warm process-wide caches
    with CaptureQueriesContext(connection) as ungrouped:
        client.get(url_of(project), {"state": "finished"})
    # The groups and the sample that names the default metrics take the place of the move
    # dialog's project and entity lists, which a grouped table has no use for.
    assert len(ungrouped) == GROUPED_PAGE_QUERIES
    with django_assert_num_queries(GROUPED_PAGE_QUERIES):
        response = client.get(url_of(project), params)
    assert group_table(response).rows


GROUPED_PAGE_QUERIES = 16


def test_a_saved_view_restores_the_grouping(client, bob, project, runs):
    client.force_login(bob)
    state = "group=config.lr&group=tags&q=summary.acc+%3E+0.1&cursor=abc"

    client.post(
        reverse("runs:view_create", args=[project.entity.name, project.name]),
        {"name": "by lr", "kind": "table", "state": state},
    )

    view = SavedView.objects.get(project=project, owner=bob)
    assert view.params == [["q", "summary.acc > 0.1"], ["group", "config.lr"], ["group", "tags"]]
    opened = client.get(
        reverse("runs:view_open", args=[project.entity.name, project.name, view.key]),
        follow=True,
    )
    assert [key.field for key in group_table(opened).keys] == ["config.lr", "tags"]


def test_the_key_chips_remove_one_key_and_ungroup_removes_all(client, bob, project, runs):
    client.force_login(bob)

    response = client.get(url_of(project), {"group": ["job_type", "tags"], "state": "finished"})

    table = group_table(response)
    assert [(key.field, parse_qs(link)) for key, link in table.remove_links] == [
        ("job_type", {"group": ["tags"], "state": ["finished"]}),
        ("tags", {"group": ["job_type"], "state": ["finished"]}),
    ]
    assert parse_qs(table.ungrouped) == {"state": ["finished"]}


def test_odd_keys_and_values_are_quoted_in_the_group_links(client, bob, project):
    values = ['say "hi"', "back\\slash", "two words", "and", "", "ünï"]
    for index, value in enumerate(values):
        RunFactory(project=project, run_id=f"r{index}", config={"run setup": {"note": value}})
    RunFactory(project=project, run_id="other", config={})
    client.force_login(bob)

    response = client.get(url_of(project), {"group": "config.run setup.note"})

    rows = group_table(response).rows
    assert len(rows) == len(values) + 1
    for row in rows:
        query = parse_qs(html.unescape(row["link"]))["q"][0]
        assert query.startswith(("config.`run setup`.note = ", "not config.`run setup`.note"))
        filtered = client.get(url_of(project), {"q": query})
        assert filtered.context["query_error"] is None, query
        assert filtered.context["page"].total == row["count"] == 1, query


def test_a_group_of_objects_has_no_link_but_is_counted(client, bob, project):
    RunFactory(project=project, run_id="a", config={"layers": [64, 64]})
    RunFactory(project=project, run_id="b", config={"layers": [64, 64]})
    client.force_login(bob)

    response = client.get(url_of(project), {"group": "config.layers"})

    (row,) = group_table(response).rows
    assert row["values_missing"] == [("[64, 64]", False)] and row["count"] == 2
    assert row["link"] is None


@pytest.mark.parametrize(
    "group",
    [
        "config." + "k" * 1000,
        "config." + "k" * 2000,
        "config.ünï.`x`",
        'config."a b"',
        "config.a,config.b,config.c,config.d",
        "config.a.b.c.d.e.f.g.h",
        ",,,",
        "tags,tags,TAGS",
        "config.\u202e",
    ],
)
def test_odd_group_parameters_never_fail(client, bob, project, runs, group):
    client.force_login(bob)
    chart = reverse("runs:project_metric_groups", args=[project.entity.name, project.name])

    table = client.get(url_of(project), {"group": group, "col": "summary.loss"})
    data = client.get(chart, {"group": group, "key": "loss"})

    assert table.status_code == 200
    assert data.status_code in (200, 400)
