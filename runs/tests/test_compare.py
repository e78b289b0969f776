"""The run comparer's logic: flattening configs and summaries, what counts as the same value, the
best value of a summary row, and the run ids a request may name. No database."""

import math
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runs import compare
from runs.compare import CompareError, build_rows, comparison, display, flatten


def run(run_id="a", config=None, summary=None):
    return SimpleNamespace(run_id=run_id, config=config or {}, summary=summary or {})


def test_flatten_joins_nested_keys_with_dots():
    config = {"optimizer": {"name": "adamw", "betas": {"b1": 0.9}}, "lr": 0.01}
    assert flatten(config) == {"optimizer.name": "adamw", "optimizer.betas.b1": 0.9, "lr": 0.01}


def test_flatten_leaves_out_wandb_and_underscore_keys_at_the_top():
    summary = {"_wandb": {"runtime": 3}, "_step": 9, "_runtime": 1.5, "loss": 0.2}
    assert flatten(summary) == {"loss": 0.2}


def test_flatten_keeps_a_logged_medium_whole_and_empty_objects_as_values():
    image = {"_type": "image-file", "path": "media/images/a.png", "sha256": "x"}
    assert flatten({"sample": image, "extra": {}}) == {"sample": image, "extra": {}}


def test_a_key_written_with_a_dot_wins_over_the_same_nested_path():
    assert flatten({"a": {"b": 2}, "a.b": 1}) == {"a.b": 1}
    assert flatten({"a.b": 1, "a": {"b": 2}}) == {"a.b": 1}


def test_flatten_of_what_is_not_an_object_is_empty():
    assert flatten(None) == {} and flatten([1, 2]) == {} and flatten("text") == {}


def test_flatten_survives_nesting_deeper_than_the_recursion_limit():
    data = value = {}
    for _ in range(5000):
        value["k"] = {}
        value = value["k"]
    value["leaf"] = 1
    (key,) = flatten(data)
    assert key.endswith(".leaf")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ({"_type": "image-file", "path": "a.png"}, "image"),
        ({"_type": "table-file", "path": "t.json"}, "table"),
        ({"_type": "images/separated", "filenames": []}, "image"),
        ({"_type": "histogram", "bins": [1, 2], "values": [3]}, "histogram"),
        ({"_type": "object3D-file", "path": "p.json"}, "3D object"),
        ({"_type": "graph-file", "path": "g.json"}, "graph"),
        (0.123456789, "0.123457"),
        (3, "3"),
        (12345678901234567890, "1.23457e+19"),
        (-(10**400), "-~1e400"),
        (True, "true"),
        (None, "null"),
        ([1, "a"], '[1, "a"]'),
        ("adamw", "adamw"),
    ],
)
def test_display_is_short_and_names_media(value, shown):
    assert display(value) == shown


@pytest.mark.parametrize(
    ("key", "lower"),
    [
        ("loss", True),
        ("val/loss", True),
        ("train.val_loss", True),
        ("test_error", True),
        ("eval/mse", True),
        ("perplexity", True),
        ("accuracy", False),
        ("val/acc", False),
        ("f1", False),
        ("reward", False),
        ("lossless_ratio", True),
    ],
)
def test_keys_that_name_a_loss_or_an_error_are_better_lower(key, lower):
    assert compare.lower_is_better(key) is lower


def rows_by_key(rows):
    return {row.key: row for row in rows}


def test_a_row_is_the_same_only_when_every_run_holds_an_equal_value():
    flat = [{"lr": 1, "opt": "sgd", "seed": 1}, {"lr": 1.0, "opt": "adam"}]
    rows = rows_by_key(build_rows(flat, mark_best=False))
    assert rows["lr"].same  # 1 and 1.0 are one number
    assert not rows["opt"].same
    assert not rows["seed"].same  # missing in one run
    assert [cell.missing for cell in rows["seed"].cells] == [False, True]
    assert rows["seed"].cells[1].text == "—"


def test_true_is_not_one_and_nan_is_nan():
    rows = rows_by_key(
        build_rows([{"x": True, "n": math.nan}, {"x": 1, "n": math.nan}], mark_best=False)
    )
    assert not rows["x"].same
    assert rows["n"].same


def test_cells_that_differ_from_the_first_run_are_marked():
    (row,) = build_rows([{"lr": 0.1}, {"lr": 0.1}, {"lr": 0.2}, {}], mark_best=False)
    assert [cell.differs for cell in row.cells] == [False, False, True, True]


def test_best_is_the_lowest_loss_and_the_highest_accuracy():
    flat = [{"val/loss": 0.3, "acc": 0.9}, {"val/loss": 0.2, "acc": 0.95}, {"acc": "n/a"}]
    rows = rows_by_key(build_rows(flat, mark_best=True))
    assert [cell.best for cell in rows["val/loss"].cells] == [False, True, False]
    assert rows["val/loss"].lower_better is True
    assert [cell.best for cell in rows["acc"].cells] == [False, True, False]
    assert rows["acc"].lower_better is False


def test_no_best_when_the_values_are_equal_or_only_one_run_has_a_number():
    flat = [{"loss": 0.2, "acc": 0.9, "bad": math.inf}, {"loss": 0.2, "bad": 1}]
    rows = rows_by_key(build_rows(flat, mark_best=True))
    assert not any(cell.best for row in rows.values() for cell in row.cells)


def test_only_differences_hides_rows_every_run_shares_and_counts_them():
    runs = [
        run("a", {"lr": 0.1, "epochs": 10}, {"loss": 0.5, "_step": 3}),
        run("b", {"lr": 0.2, "epochs": 10}, {"loss": 0.5, "_step": 4}),
    ]
    config, summary = comparison(runs, only_differences=True)
    assert [row.key for row in config.rows] == ["lr"] and config.hidden == 1
    assert summary.rows == [] and summary.hidden == 1
    config, summary = comparison(runs)
    assert [row.key for row in config.rows] == ["epochs", "lr"] and config.hidden == 0


def test_run_ids_are_taken_once_each_in_order():
    assert compare.run_ids_from(["b", "a", "b", " ", "c"]) == ["b", "a", "c"]


@pytest.mark.parametrize("ids", [[], ["a"], ["a", "a"], [f"r{i}" for i in range(21)]])
def test_fewer_than_two_or_more_than_twenty_runs_are_refused(ids):
    with pytest.raises(CompareError):
        compare.run_ids_from(ids)


def test_unknown_run_ids_are_named():
    with pytest.raises(CompareError, match="no run zz"):
        compare.in_order([run("a"), run("b")], ["a", "zz"])
    assert [r.run_id for r in compare.in_order([run("a"), run("b")], ["b", "a"])] == ["b", "a"]


# Anything the client may send as a config or summary: JSON with any keys and nesting.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(json_values, json_values), min_size=2, max_size=5))
def test_any_json_compares_without_error(data):
    runs = [run(f"r{i}", config, summary) for i, (config, summary) in enumerate(data)]
    for only_differences in (False, True):
        for section in comparison(runs, only_differences=only_differences):
            for row in section.rows:
                assert len(row.cells) == len(runs)
                assert all(isinstance(cell.text, str) for cell in row.cells)
                assert not (only_differences and row.same)
                assert sum(cell.best for cell in row.cells) <= len(runs)


@settings(max_examples=300, deadline=None)
@given(json_objects)
def test_a_run_compared_with_itself_has_no_differences(config):
    runs = [run("a", config, config), run("b", config, config)]
    assert all(section.rows == [] for section in comparison(runs, only_differences=True))
    for section in comparison(runs):
        for row in section.rows:
            assert row.same and not any(cell.differs or cell.best for cell in row.cells)


@settings(max_examples=200, deadline=None)
@given(json_objects)
def test_every_flattened_key_names_a_leaf_or_a_medium(config):
    for key, value in flatten(config).items():
        assert not key.startswith("_")
        assert not (isinstance(value, dict) and value and "_type" not in value)
