"""Charts logged with `wandb.plot` presets: the run config's `_wandb.visualize` entries turned
into plotly figures, the run page's "Custom charts" section and its figure endpoint.

The config entries and tables are the shapes the wandb 0.31.0 client stores (recorded in
runs/tests/preset_charts.py; checked with the real client in api/tests/test_wandb_client.py)."""

import json
import re
from types import SimpleNamespace

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs.media.presets import TABLE_ROWS_SHOWN, chart_figure, chart_spec, chart_specs
from runs.media.tables import LoggedTable
from runs.models import RunFile
from runs.tests.preset_charts import PRESETS, log_chart, log_presets, visualize_entry
from runs.tests.test_run_sections import login
from tests.factories import ProjectFactory, RunFactory


def spec_of(key, **changes):
    """The ChartSpec of a recorded preset, read from a config as the client leaves it."""
    chart_type, fields, strings, *_ = PRESETS[key]
    entry = visualize_entry(key, changes.get("chart_type", chart_type), fields, strings)
    run = SimpleNamespace(config={"_wandb": {"visualize": {key: entry}}})
    return chart_spec(run, key)


def figure_of(key, rows=None, columns=None):
    *_, recorded_columns, recorded_rows = PRESETS[key]
    table = LoggedTable(columns or recorded_columns, recorded_rows if rows is None else rows)
    figure, note = chart_figure(spec_of(key), table)
    assert note == ""
    json.dumps(figure, allow_nan=False)  # what the page receives is strict JSON
    return figure


# From the config entry to a figure


def test_the_config_entry_gives_the_chart_type_columns_title_and_table_key():
    spec = spec_of("pr")
    assert spec.chart_type == "wandb/area-under-curve/v0"
    assert spec.fields == {"x": "recall", "y": "precision", "class": "class"}
    assert spec.title == "Precision and recall"
    assert spec.table_key == "pr_table"
    assert spec.drawn and spec.type_label == "Curve per class"


def test_a_split_table_is_read_from_the_key_the_query_names():
    entry = visualize_entry(
        "acc", "wandb/bar/v0", {}, {}, table_key="Custom Chart Tables/acc_table"
    )
    run = SimpleNamespace(config={"_wandb": {"visualize": {"acc": entry}}})
    assert chart_spec(run, "acc").table_key == "Custom Chart Tables/acc_table"


def test_a_chart_without_a_title_is_named_by_its_key():
    entry = visualize_entry("acc", "wandb/bar/v0", {}, {"title": ""})
    run = SimpleNamespace(config={"_wandb": {"visualize": {"acc": entry}}})
    assert chart_spec(run, "acc").title == "acc"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"_wandb": "x"},
        {"_wandb": {"visualize": []}},
        {"_wandb": {"visualize": {"a": 1, "b": {"panel_config": "x"}}}},
        [],
    ],
)
def test_config_without_charts_gives_none(config):
    assert chart_specs(SimpleNamespace(config=config)) == []


def test_garbage_in_a_chart_entry_is_ignored():
    entry = {
        "panel_config": {
            "panelDefId": 5,
            "fieldSettings": {"x": 1, "y": "b"},
            "stringSettings": ["t"],
            "userQuery": {"queryFields": [{"fields": [{"name": "summaryTable", "args": 3}]}, 7]},
        }
    }
    run = SimpleNamespace(config={"_wandb": {"visualize": {"k": entry}}})
    spec = chart_spec(run, "k")
    assert (spec.chart_type, spec.fields, spec.strings) == ("", {"y": "b"}, {})
    assert spec.table_key == "k_table" and not spec.drawn


def test_line_draws_one_line_per_stroke_value():
    figure = figure_of("loss_curve")
    train, valid = figure["data"]
    assert (train["name"], valid["name"]) == ("train", "valid")
    assert train["x"] == [0, 1, 2, 3, 4] and valid["y"][0] == 1.2
    assert train["type"] == "scatter" and train["mode"] == "lines+markers"
    layout = figure["layout"]
    assert layout["xaxis"]["title"]["text"] == "epoch"
    assert layout["yaxis"]["title"]["text"] == "loss"
    assert layout["showlegend"] is True


def test_line_without_stroke_is_one_line_sorted_along_x():
    chart_type, _, strings, columns, _ = PRESETS["loss_curve"]
    entry = visualize_entry("l", chart_type, {"x": "epoch", "y": "loss"}, strings)
    spec = chart_spec(SimpleNamespace(config={"_wandb": {"visualize": {"l": entry}}}), "l")
    table = LoggedTable(columns, [[2, 0.3, "a"], [0, 1.0, "a"], [1, 0.5, "b"]])
    figure, _ = chart_figure(spec, table)
    (line,) = figure["data"]
    assert (line["x"], line["y"]) == ([0, 1, 2], [1.0, 0.5, 0.3])
    assert figure["layout"]["showlegend"] is False


def test_a_long_line_has_no_markers():
    rows = [[e, 1 / (e + 1), "train"] for e in range(100)]
    (line,) = figure_of("loss_curve", rows)["data"]
    assert line["mode"] == "lines"


def test_line_series_draws_each_key_and_names_the_x_axis():
    figure = figure_of("sines")
    sin, cos = figure["data"]
    assert (sin["name"], cos["name"]) == ("sin", "cos")
    assert sin["x"] == list(range(10)) and cos["y"][0] == 1.0
    assert figure["layout"]["xaxis"]["title"]["text"] == "epoch"


def test_scatter_draws_markers():
    figure = figure_of("depths")
    (points,) = figure["data"]
    assert (points["type"], points["mode"]) == ("scatter", "markers")
    assert points["x"] == list(range(8)) and points["y"][3] == 0.9
    assert figure["layout"]["xaxis"]["title"]["text"] == "width"


def test_bar_draws_a_bar_per_label_first_on_top():
    figure = figure_of("accuracy")
    (bars,) = figure["data"]
    assert (bars["type"], bars["orientation"]) == ("bar", "h")
    assert (bars["y"], bars["x"]) == (["cat", "dog", "bird"], [0.5, 0.6, 0.7])
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"
    assert figure["layout"]["yaxis"]["type"] == "category"


def test_histogram_counts_the_column():
    figure = figure_of("heights")
    (histogram,) = figure["data"]
    assert histogram["type"] == "histogram"
    assert histogram["x"] == [1.5, 1.6, 1.6, 1.7, 1.7, 1.7, 1.8, 1.8, 1.9]
    assert figure["layout"]["yaxis"]["title"]["text"] == "Count"


def test_confusion_matrix_is_a_heat_map_of_counts():
    figure = figure_of("confusions")
    (heat,) = figure["data"]
    assert heat["type"] == "heatmap"
    assert heat["x"] == heat["y"] == ["cat", "dog", "bird"]
    # Rows are the actual class, columns the predicted one; whole counts show as 3, not 3.0.
    assert heat["z"] == [[3, 1, 0], [0, 2, 1], [1, 0, 2]]
    assert all(isinstance(count, int) for row in heat["z"] for count in row)
    assert heat["texttemplate"] == "%{z}"
    layout = figure["layout"]
    assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == (
        "Predicted",
        "Actual",
    )
    assert layout["yaxis"]["autorange"] == "reversed"


def test_confusion_matrix_sums_repeated_pairs_and_keeps_numeric_class_names_apart():
    rows = [[1, 2, 1], [1, 2, 2.5], [2, 1, None]]
    (heat,) = figure_of("confusions", rows)["data"]
    assert heat["x"] == ["1", "2"]
    assert heat["z"] == [[0, 3.5], [0, 0]]


def test_pr_curve_draws_a_line_per_class_along_recall():
    figure = figure_of("pr")
    assert [line["name"] for line in figure["data"]] == ["cat", "dog", "bird"]
    cat = figure["data"][0]
    assert (cat["x"], cat["y"]) == ([0.0, 0.5, 1.0], [1.0, 0.75, 0.4])
    layout = figure["layout"]
    assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == (
        "Recall",
        "Precision",
    )


def test_roc_curve_draws_a_line_per_class_with_its_axis_titles():
    figure = figure_of("roc")
    assert len(figure["data"]) == 3
    assert figure["data"][1]["x"] == [0.0, 0.143, 0.286, 1.0]
    assert figure["layout"]["xaxis"]["title"]["text"] == "False positive rate"
    assert figure["layout"]["yaxis"]["title"]["text"] == "True positive rate"


def test_values_json_cannot_carry_are_left_out():
    rows = [[0, float("nan"), "a"], [1, float("inf"), "a"], [2, {"_type": "image-file"}, "a"]]
    (line,) = figure_of("loss_curve", rows)["data"]
    assert line["y"] == [None, None, None]


def test_an_unknown_chart_type_shows_its_table_with_a_note():
    *_, columns, rows = PRESETS["accuracy"]
    spec = spec_of("accuracy", chart_type="my-team/radar/v2")
    assert not spec.drawn and spec.type_label == "Custom chart"
    figure, note = chart_figure(spec, LoggedTable(columns, rows))
    assert note == "The custom chart type my-team/radar/v2 is not drawn here; its table is shown."
    (table,) = figure["data"]
    assert table["type"] == "table"
    assert table["header"]["values"] == ["class", "accuracy"]
    assert table["cells"]["values"] == [["cat", "dog", "bird"], ["0.5", "0.6", "0.7"]]


def test_a_long_table_of_an_unknown_chart_shows_its_first_rows():
    spec = spec_of("accuracy", chart_type="my-team/radar/v2")
    rows = [[f"c{i}", i, {"a": 1}, None] for i in range(TABLE_ROWS_SHOWN + 5)]
    figure, note = chart_figure(spec, LoggedTable(["class", "n", "obj", "none"], rows))
    labels, numbers, objects, nones = figure["data"][0]["cells"]["values"]
    assert len(labels) == TABLE_ROWS_SHOWN and numbers[3] == "3"
    assert objects[0] == '{"a": 1}' and nones[0] == ""
    assert f"first {TABLE_ROWS_SHOWN} of {TABLE_ROWS_SHOWN + 5} rows" in note


def test_a_table_without_the_charts_column_shows_the_table_and_says_which():
    spec = spec_of("accuracy")
    figure, note = chart_figure(spec, LoggedTable(["name", "accuracy"], [["cat", 0.5]]))
    assert figure["data"][0]["type"] == "table"
    assert note == "The table has no column 'class' for the chart's label. Its table is shown."


def test_a_chart_naming_no_column_shows_the_table():
    entry = visualize_entry("h", "wandb/histogram/v0", {}, {})
    spec = chart_spec(SimpleNamespace(config={"_wandb": {"visualize": {"h": entry}}}), "h")
    figure, note = chart_figure(spec, LoggedTable(["a"], [[1]]))
    assert figure["data"][0]["type"] == "table"
    assert note.startswith("The chart names no column for its value.")


# The run page and the figure endpoint


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="classifier")
    return RunFactory(project=project, author=alice, run_id="judge", config={}, summary={})


def chart_url(run, key):
    project = run.project
    url = reverse("runs:custom_chart", args=[project.entity.name, project.name, run.run_id])
    return f"{url}?key={key}"


def custom_charts_section(html):
    match = re.search(r'<section class="panel" id="custom-charts">(.*?)</section>', html, re.S)
    return match.group(1) if match else None


def test_the_run_page_lists_each_chart_with_its_title(client, bob, run):
    log_presets(run)
    login(client, bob)
    html = client.get(run.get_absolute_url()).content.decode()
    section = custom_charts_section(html)
    titles = re.findall(r"<figcaption><strong>([^<]*)</strong>", section)
    assert titles == [
        "Accuracy per class",
        "Confusions",
        "Depth by width",
        "Heights",
        "Loss by split",
        "Precision and recall",
        "ROC",
        "Two waves",
    ]
    assert len(re.findall(r"data-custom-chart\s", section)) == 8
    assert chart_url(run, "loss_curve").replace("&", "&amp;") in section
    assert 'href="#custom-charts"' in html
    assert "js/custom_charts.js" in html
    # Histograms and confusion matrices need plotly.js's cartesian bundle.
    assert '<script src="/static/vendor/plotly-cartesian.min.js" defer>' in html


def test_a_run_without_charts_has_no_custom_charts_section(client, bob, run):
    login(client, bob)
    html = client.get(run.get_absolute_url()).content.decode()
    assert custom_charts_section(html) is None and 'href="#custom-charts"' not in html
    # Its metric lines need no more than plotly.js's smallest bundle.
    assert '<script src="/static/vendor/plotly-basic.min.js" defer>' in html
    assert "plotly-cartesian" not in html


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_the_endpoint_sends_each_presets_figure(client, bob, run, key):
    log_presets(run)
    login(client, bob)
    response = client.get(chart_url(run, key))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["title"] == PRESETS[key][2]["title"] and data["note"] == ""
    assert data["figure"]["data"] and data["figure"]["layout"]


def test_a_table_not_uploaded_yet_says_so(client, bob, run):
    log_chart(run, "accuracy", *PRESETS["accuracy"], upload=False)
    login(client, bob)
    data = client.get(chart_url(run, "accuracy")).json()
    assert data["figure"] is None
    assert data["note"] == "The chart's table has not been uploaded yet."


def test_a_table_file_that_is_not_json_says_why(client, bob, run):
    log_chart(run, "accuracy", *PRESETS["accuracy"])
    file = RunFile.objects.get(run=run)
    with default_storage.open(file.storage_name, "wb") as handle:
        handle.write(b"not json")
    login(client, bob)
    data = client.get(chart_url(run, "accuracy")).json()
    assert (data["figure"], data["note"]) == (None, "This table file is not valid JSON.")


@pytest.mark.parametrize("query", ["", "?key=", "?key=nope", "?key=loss_curve_table"])
def test_a_key_without_a_chart_is_404(client, bob, run, query):
    log_presets(run, ["loss_curve"])
    login(client, bob)
    url = chart_url(run, "x").split("?")[0] + query
    assert client.get(url).status_code == 404


def test_outsiders_cannot_fetch_a_private_projects_chart(client, run, charlie):
    log_presets(run, ["accuracy"])
    assert client.get(chart_url(run, "accuracy")).status_code == 404
    login(client, charlie)
    assert client.get(chart_url(run, "accuracy")).status_code == 404


def test_a_public_projects_charts_are_for_everyone(client, public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    run = RunFactory(project=project, author=alice, run_id="open1", config={}, summary={})
    log_presets(run, ["heights"])
    data = client.get(chart_url(run, "heights")).json()
    assert data["figure"]["data"][0]["type"] == "histogram"


def test_the_run_page_costs_the_same_queries_with_one_chart_or_eight(client, bob, team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="many")
    one = RunFactory(project=project, author=alice, run_id="one", config={}, summary={})
    eight = RunFactory(project=project, author=alice, run_id="eight", config={}, summary={})
    log_presets(one, ["accuracy"])
    log_presets(eight)
    login(client, bob)
    counts = []
    for run in (one, eight):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(run.get_absolute_url()).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_charts_figure_costs_one_query_for_its_table_whatever_its_size(client, bob, run):
    chart_type, fields, strings, columns, _ = PRESETS["loss_curve"]
    small = [[e, 1 / (e + 1), "train"] for e in range(3)]
    large = [[e, 1 / (e + 1), split] for e in range(2000) for split in ("a", "b", "c")]
    log_chart(run, "small", chart_type, fields, strings, columns, small)
    log_chart(run, "large", chart_type, fields, strings, columns, large)
    login(client, bob)
    counts = []
    for key in ("small", "large"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(chart_url(run, key)).status_code == 200
        counts.append(len(queries))
        assert sum("runs_runfile" in query["sql"] for query in queries.captured_queries) == 1
    assert counts[0] == counts[1]
