"""The engine wrapper: grid points decoded by index in the engine's own order, validation
messages, JSON-native values, random/bayes suggestions and hyperband stops."""

import json

import pytest

from sweeps import engine

FLAT_CONFIGS = [
    {"method": "grid", "parameters": {"b": {"values": [1, 2, 3]}, "a": {"values": ["x", "y"]}}},
    {
        "method": "grid",
        "parameters": {
            "epochs": {"min": 1, "max": 3},
            "lr": {"value": 0.1},
            "opt": {"values": ["adam", "sgd"]},
        },
    },
    {
        "method": "grid",
        "parameters": {
            "dropout": {"distribution": "q_uniform", "min": 0.0, "max": 0.3, "q": 0.1},
            "flag": {"values": [True, False]},
        },
    },
    {
        "method": "grid",
        "parameters": {"name": {"values": ["  padded ", "plain"]}, "n": {"value": 2}},
    },
]


def engine_sequence(config):
    """Every point the engine's own next_run hands out, one after another."""
    module = engine._engine()
    runs, points = [], []
    while True:
        run = module.next_run(config, runs, validate=False)
        if run is None:
            return points
        points.append(engine._native(run.config))
        runs.append(module.SweepRun(name=f"r{len(runs)}", state="finished", config=run.config))
        assert len(points) < 100, "the engine does not stop"


@pytest.mark.parametrize("config", FLAT_CONFIGS)
def test_grid_points_follow_the_engines_order(config):
    expected = engine_sequence(config)
    size = engine.grid_size(config)
    assert size == len(expected)
    assert [engine.grid_point(config, i) for i in range(size)] == expected
    assert [engine.grid_index(config, point) for point in expected] == list(range(size))


NESTED = {
    "method": "grid",
    "parameters": {
        "a": {"values": [1, 2, 3]},
        "model": {
            "parameters": {"depth": {"values": [2, 4, 8]}, "act": {"value": "relu"}},
        },
    },
}


def test_nested_grid_has_nine_distinct_points():
    assert engine.grid_size(NESTED) == 9
    points = [engine.grid_point(NESTED, i) for i in range(9)]
    assert points[0] == {"a": {"value": 1}, "model": {"value": {"act": "relu", "depth": 2}}}
    assert points[8] == {"a": {"value": 3}, "model": {"value": {"act": "relu", "depth": 8}}}
    assert len({json.dumps(p, sort_keys=True) for p in points}) == 9
    assert [engine.grid_index(NESTED, p) for p in points] == list(range(9))
    with pytest.raises(IndexError):
        engine.grid_point(NESTED, 9)


def test_grid_index_of_a_foreign_point_is_none():
    assert engine.grid_index(NESTED, {"a": {"value": 4}, "model": {"value": {"depth": 2}}}) is None
    assert engine.grid_index(NESTED, {"a": {"value": 1}}) is None
    assert engine.grid_index({"method": "random", "parameters": {}}, {}) is None


def test_grid_values_are_json_native():
    config = FLAT_CONFIGS[2]
    for i in range(engine.grid_size(config)):
        point = engine.grid_point(config, i)
        assert type(point["dropout"]["value"]) is float
        assert json.loads(json.dumps(point)) == point


def test_grid_size_is_none_for_other_methods():
    assert engine.grid_size({"method": "random", "parameters": {"a": {"values": [1]}}}) is None


@pytest.mark.parametrize(
    "config, message",
    [
        ({"method": "nope", "parameters": {"a": {"values": [1]}}}, "'nope' is not one of"),
        (
            {"method": "random", "parameters": {"a": {"values": [1, 2], "probabilities": [0.3]}}},
            "a",
        ),
        (
            {
                "method": "random",
                "parameters": {"a": {"values": [1, 2], "probabilities": [0.3, 0.3]}},
            },
            "Parameter a: Probabilities [0.3, 0.3] do not sum to 1",
        ),
        (
            {"method": "grid", "parameters": {"lr": {"min": 0.0, "max": 1.0}}},
            "Parameter lr cannot be searched by a grid",
        ),
        (
            {"method": "bayes", "parameters": {"lr": {"min": 0.0, "max": 1.0}}},
            "Bayes search needs a `metric` with a `name` to optimise.",
        ),
        ({"method": "grid"}, "needs a `parameters` mapping"),
        ("just text", "must be a mapping"),
        ({"method": "random", "parameters": {"a": {"min": 2, "max": 1}}}, "min"),
        (
            {"method": "random", "run_cap": 0, "parameters": {"a": {"values": [1]}}},
            "`run_cap` must be at least 1.",
        ),
        (
            {"method": "random", "run_cap": "2", "parameters": {"a": {"values": [1]}}},
            "`run_cap` must be a whole number.",
        ),
        (
            {"method": "random", "colour": "red", "parameters": {"a": {"values": [1]}}},
            "'colour' was unexpected",
        ),
    ],
)
def test_validation_explains_what_is_wrong(config, message):
    problems = engine.validate(config)
    assert problems
    assert any(message in problem for problem in problems), problems


def test_huge_ranges_are_refused_before_they_are_built(settings):
    settings.SWEEP_MAX_GRID = 1000
    config = {"method": "grid", "parameters": {"n": {"min": 0, "max": 10**12}}}
    assert engine.validate(config) == [
        "Parameter n has 1000000000001 grid values; a grid may have at most 1000 points."
    ]


def test_validation_caps_the_grid(settings):
    settings.SWEEP_MAX_GRID = 8
    assert engine.validate(NESTED) == ["The grid has 9 points; at most 8 are allowed."]
    settings.SWEEP_MAX_GRID = 9
    assert engine.validate(NESTED) == []


@pytest.mark.parametrize(
    "config",
    [
        NESTED,
        *FLAT_CONFIGS,
        {
            "method": "random",
            "parameters": {
                "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
                "bs": {"distribution": "q_log_uniform_values", "min": 16, "max": 256, "q": 16},
                "p": {"distribution": "beta", "a": 2, "b": 3},
            },
        },
        {"method": "bayes", "metric": {"name": "loss"}, "parameters": {"x": {"min": 0, "max": 9}}},
        # Keys of W&B's newer schema: run cap, launch job and scheduler, a custom search.
        {
            "method": "custom",
            "run_cap": 3,
            "job": "team/proj/job:v0",
            "scheduler": {"job": "wandb/sweep-jobs/job-optuna-sweep-scheduler:latest"},
            "parameters": {"x": {"values": [1, 2]}},
        },
    ],
)
def test_good_configs_validate(config):
    assert engine.validate(config) == []


def test_random_suggestion_is_json_native_and_in_range():
    config = {
        "method": "random",
        "run_cap": 5,
        "parameters": {
            "lr": {"min": 0.001, "max": 0.1},
            "n": {"distribution": "q_normal", "mu": 10, "sigma": 2},
            "opt": {"values": ["adam", "sgd"]},
        },
    }
    point = engine.suggest(config, [])
    assert json.loads(json.dumps(point)) == point
    assert 0.001 <= point["lr"]["value"] <= 0.1
    assert type(point["n"]["value"]) in (int, float)
    assert point["opt"]["value"] in ("adam", "sgd")


def test_bayes_suggests_from_past_runs():
    config = {
        "method": "bayes",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"min": 0.0, "max": 10.0}},
    }
    runs = [
        {
            "name": f"r{i}",
            "state": "finished",
            "config": {"x": {"value": float(x)}},
            "summaryMetrics": {"loss": (x - 3.0) ** 2},
        }
        for i, x in enumerate([0, 2, 5, 8, 10])
    ]
    point = engine.suggest(config, runs)
    assert 0.0 <= point["x"]["value"] <= 10.0
    assert type(point["x"]["value"]) is float


def test_hyperband_stops_the_bad_run():
    config = {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "early_terminate": {"type": "hyperband", "max_iter": 5, "eta": 2, "s": 2},
        "parameters": {"a": {"values": [1, 2, 3]}},
    }
    # Bands at steps 2 and 4 (eta 2); thresholds from the runs that reached them: 8, then 7.
    histories = {
        "a": ("finished", [10, 9]),
        "b": ("running", [10, 10]),
        "c": ("running", [10, 8, 8]),
        "d": ("running", [10, 7, 7]),
        "e": ("finished", [10, 6, 6]),
    }
    runs = [
        {"name": name, "state": state, "history": [{"loss": v} for v in values]}
        for name, (state, values) in histories.items()
    ]
    stopped = engine.to_stop(config, runs)
    assert [name for name, _info in stopped] == ["b", "c"]
    assert stopped[0][1]["thresholds"] == [8, 7]
    assert json.loads(json.dumps(stopped[0][1])) == stopped[0][1]
