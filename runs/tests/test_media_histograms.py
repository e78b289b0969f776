"""Logged histograms (`wandb.Histogram`) on the run page: the shown step as bars, every step as a
heat map on one grid, bad values skipped with a note.

The values have the shape the wandb 0.31.0 client sends (checked with the real client in
api/tests/test_wandb_media.py); `packedBins` is the W&B server's form of evenly spaced bins."""

import json
import math
import re

import pytest

from runs import media
from runs.ingest import HISTORY_FILE
from runs.media.histograms import (
    Histogram,
    HistogramError,
    heatmap,
    histogram_sparkline,
    parse_histogram,
    resample,
    sample_steps,
)
from runs.tests.test_media import log_images, media_section, page_url
from runs.tests.test_run_sections import login, send
from tests.factories import ProjectFactory, RunFactory


def histogram_value(step, bins=4, start=0.0):
    """What the client logs for wandb.Histogram(np_histogram=...): counts and their edges."""
    return {
        "_type": "histogram",
        "values": [step + index for index in range(bins)],
        "bins": [start + index for index in range(bins + 1)],
    }


def log_histograms(run, steps, key="weights", value=histogram_value):
    send(run, HISTORY_FILE, [{"_step": step, "loss": 1.0, key: value(step)} for step in steps])


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="nets")
    return RunFactory(project=project, author=alice, run_id="trainer")


def embedded_json(html):
    return [
        json.loads(data)
        for data in re.findall(r'<script type="application/json">(.*?)</script>', html, re.S)
    ]


# Reading one value


def test_a_histogram_with_bin_edges_is_read():
    histogram = parse_histogram({"_type": "histogram", "values": [1, 2], "bins": [0, 0.5, 1]})

    assert histogram == Histogram([0, 0.5, 1], [1, 2])
    assert histogram.bars() == {"x": [0.25, 0.75], "width": [0.5, 0.5], "y": [1, 2]}


def test_packed_bins_are_evenly_spaced_edges():
    value = {
        "_type": "histogram",
        "values": [3, 4, 5],
        "packedBins": {"min": -1, "size": 0.5, "count": 3},
    }

    assert parse_histogram(value).edges == [-1, -0.5, 0, 0.5]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            {"_type": "histogram", "values": [1, 2], "bins": [0, 1]},
            "2 counts but 2 bin edges (3 expected)",
        ),
        (
            {"_type": "histogram", "values": [1, "x"], "bins": [0, 1, 2]},
            "counts are not all numbers",
        ),
        (
            {"_type": "histogram", "values": [1, float("nan")], "bins": [0, 1, 2]},
            "counts are not all numbers",
        ),
        (
            {"_type": "histogram", "values": [1, True], "bins": [0, 1, 2]},
            "counts are not all numbers",
        ),
        (
            {"_type": "histogram", "values": [1, 2], "bins": [0, None, 2]},
            "edges are not all numbers",
        ),
        ({"_type": "histogram", "values": [1, 2], "bins": [0, 2, 1]}, "not in ascending order"),
        ({"_type": "histogram", "values": [], "bins": [0]}, "no counts"),
        ({"_type": "histogram", "values": "12", "bins": [0, 1, 2]}, "no counts"),
        (
            {"_type": "histogram", "values": [1], "packedBins": {"min": 0, "size": 1, "count": 2}},
            "packed bins say 2",
        ),
        (
            {"_type": "histogram", "values": [1], "packedBins": {"min": 0, "size": 0, "count": 1}},
            "no usable start",
        ),
        (
            {"_type": "histogram", "values": [1] * 5000, "bins": list(range(5001))},
            "more than the 4096",
        ),
        ({"_type": "image-file"}, "not a histogram"),
    ],
)
def test_a_value_that_is_no_histogram_says_why(value, reason):
    with pytest.raises(HistogramError, match=re.escape(reason)):
        parse_histogram(value)


# The heat map


def test_resampling_keeps_the_counts_and_shares_bins_by_overlap():
    histogram = Histogram([0, 1, 2], [10, 4])

    grid = resample(histogram, 0, 4, 8)  # grid bins of 0.5

    assert grid == [5, 5, 2, 2, 0, 0, 0, 0]
    assert math.isclose(sum(resample(Histogram([0.3, 1.7, 3.1], [7, 3]), 0, 4, 5)), 10)


def test_a_bin_of_zero_width_lands_in_one_grid_bin():
    assert resample(Histogram([1, 1, 2], [3, 1]), 0, 2, 4) == [0, 0, 3.5, 0.5]


def test_steps_beyond_the_cap_are_sampled_evenly_with_the_ends_kept():
    steps = list(range(0, 20_000, 2))

    sampled = sample_steps(steps, 500)

    assert len(sampled) == 500 and sampled[0] == 0 and sampled[-1] == 19_998
    assert sampled == sorted(set(sampled))
    assert sample_steps([1, 2, 3], 500) == [1, 2, 3]


def test_the_heat_map_puts_differing_bins_on_one_grid():
    values = [(0, histogram_value(0, start=0)), (1, histogram_value(1, start=4))]

    result = heatmap(values, steps=2, rows=8)

    assert result.data["x"] == [0, 1]
    assert result.data["y"][0] == 0.5 and result.data["y"][-1] == 7.5  # grid from 0 to 8
    columns = list(zip(*result.data["z"], strict=True))
    assert columns[0] == (0, 1, 2, 3, 0, 0, 0, 0)
    assert columns[1] == (0, 0, 0, 0, 1, 2, 3, 4)
    assert not result.sampled and result.skipped == []


def test_bad_steps_are_skipped_with_a_note():
    bad = {"_type": "histogram", "values": [1, 2], "bins": [0, 1]}
    values = [(0, histogram_value(0)), (1, bad), (2, histogram_value(2)), (3, "text")]

    result = heatmap(values, steps=4)

    assert result.data["x"] == [0, 2]
    assert result.notes == [
        "Step 1 skipped: It has 2 counts but 2 bin edges (3 expected).",
        "Step 3 skipped: It is not a histogram.",
    ]


def test_many_bad_steps_are_summed_up():
    result = heatmap([(step, {"_type": "histogram"}) for step in range(9)], steps=9)

    assert result.data == {} and len(result.notes) == 6
    assert result.notes[-1] == "… and 4 more steps."


def test_a_histogram_of_one_value_still_has_a_grid():
    same = {"_type": "histogram", "values": [5], "bins": [2.0, 2.0]}

    result = heatmap([(0, same), (1, same)], steps=2, rows=4)

    assert result.data["y"] == [1.625, 1.875, 2.125, 2.375]
    assert sum(row[0] for row in result.data["z"]) == 5


# The run page


def test_the_panel_draws_the_last_step_and_the_heat_map_over_all_steps(client, bob, run):
    log_histograms(run, [0, 10, 20])
    login(client, bob)

    html = media_section(client.get(run.get_absolute_url()).content.decode())

    assert html.count("data-media-panel") == 1 and "<strong>weights</strong>" in html
    assert "data-histogram " in html and "data-histogram-heatmap" in html
    bars, grid = embedded_json(html)
    assert bars == {"x": [0.5, 1.5, 2.5, 3.5], "width": [1, 1, 1, 1], "y": [20, 21, 22, 23]}
    assert grid["x"] == [0, 10, 20] and len(grid["y"]) == 64
    # The heat map sits outside the frame the slider swaps.
    frame_end = html.index("</div>", html.index("data-media-frame"))
    assert html.index("data-histogram-heatmap") > frame_end
    assert "steps shown" not in html


def test_a_run_with_histograms_loads_the_plotly_bundle_that_draws_heat_maps(client, bob, run):
    log_images(run, [0])
    login(client, bob)
    basic = '<script src="/static/vendor/plotly-basic.min.js" defer>'
    cartesian = '<script src="/static/vendor/plotly-cartesian.min.js" defer>'

    html = client.get(run.get_absolute_url()).content.decode()
    assert basic in html and cartesian not in html

    log_histograms(run, [0, 10])
    html = client.get(run.get_absolute_url()).content.decode()
    assert cartesian in html and basic not in html
    # Either way a figure of another trace type can fetch the full bundle.
    assert 'data-plotly-full="/static/vendor/plotly.min.js"' in html


def test_the_slider_shows_another_steps_bars_without_the_heat_map(client, bob, run):
    log_histograms(run, [0, 10, 20])
    login(client, bob)

    html = client.get(page_url("runs:media", run), {"key": "weights", "step": 10}).content.decode()

    assert "data-histogram-heatmap" not in html
    assert embedded_json(html) == [
        {"x": [0.5, 1.5, 2.5, 3.5], "width": [1, 1, 1, 1], "y": [10, 11, 12, 13]}
    ]


def test_a_long_run_says_its_heat_map_is_sampled(client, bob, run, monkeypatch):
    monkeypatch.setattr(media.histograms, "HEATMAP_MAX_STEPS", 4)
    log_histograms(run, range(10))
    login(client, bob)

    html = media_section(client.get(run.get_absolute_url()).content.decode())

    assert embedded_json(html)[1]["x"] == [0, 3, 6, 9]
    assert "4 of 10 steps shown, evenly spaced" in html


def test_a_bad_histogram_is_a_note_not_an_error(client, bob, run):
    def broken_at_two(step):
        if step == 2:
            return {"_type": "histogram", "values": [1, float("nan")], "bins": [0, 1, 2]}
        return histogram_value(step)

    log_histograms(run, [0, 1, 2], value=broken_at_two)
    login(client, bob)

    response = client.get(run.get_absolute_url())

    html = media_section(response.content.decode())
    assert response.status_code == 200
    assert "This histogram cannot be drawn: Its counts are not all numbers." in html
    assert "Step 2 skipped: Its counts are not all numbers." in html
    assert embedded_json(html)[0]["x"] == [0, 1]


@pytest.mark.parametrize("steps", [3, 60])
def test_the_heat_maps_cost_one_query_whatever_the_keys_and_steps(
    run, steps, django_assert_num_queries
):
    for key in ("weights", "biases", "grads"):
        log_histograms(run, range(steps), key=key)
    log_images(run, range(steps))

    # Steps, values shown, image files, and the heat maps' values.
    with django_assert_num_queries(4):
        panels = media.media_panels(run)

    assert [panel.key for panel in panels] == ["biases", "grads", "samples", "weights"]
    histograms = [panel for panel in panels if panel.kind == "histogram"]
    assert len(histograms) == 3 and all(panel.heatmap.shown == steps for panel in histograms)


# The summary


def test_a_histogram_in_the_summary_is_a_small_chart():
    bars = histogram_sparkline(
        {"_type": "histogram", "values": [1, 2, 4], "bins": [0, 1, 2, 4]}, 160, 32
    )

    assert [bar["x"] for bar in bars] == [0, 40, 80]
    assert [bar["width"] for bar in bars] == [40, 40, 80]
    assert [bar["height"] for bar in bars] == [8, 16, 32]
    assert [bar["y"] for bar in bars] == [24, 16, 0]
    assert histogram_sparkline({"_type": "histogram", "values": [1]}) is None
