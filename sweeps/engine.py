"""The search engine: W&B's own `sweeps` package (PyPI `sweeps`, MIT), behind five functions.

Why this engine: it *is* W&B's semantics — the config schema and its messages, the fourteen
distributions (q_log_uniform_values, inv_log_uniform, beta, ...), nested parameters, bayes
search as a Gaussian process with W&B's normalisation, hyperband early termination — and the
client's own local controller (`wandb controller`, `wandb[sweeps]`) runs the same package, so a
sweep behaves the same driven by Teamsite or by the client. Optuna was rejected: no normal /
log-normal / beta distributions, its grid sampler visits points in random order without W&B's
nesting, its TPE/GP is not W&B's bayes, and its pruner keeps a second store of trials.

The Django app is also called `sweeps`, so the installed package is loaded under the module
name `wandb_sweeps` (its imports are relative), lazily: numpy/scipy/scikit-learn cost ~1 s.

Grid points are decoded here by index (mixed radix over the categorical parameters in the
engine's order, last varying fastest, as itertools.product) instead of by the engine's
`next_run`, which re-hashes every earlier run (O(runs) per point) and, with nested
parameters, never stops. Values come back JSON-native (numpy scalars turned into Python).
"""

import importlib.metadata
import importlib.util
import math
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
from django.conf import settings

METHODS = ("grid", "random", "bayes")
# "custom": an external scheduler (launch) picks the points; the server hands out none.
CUSTOM = "custom"
# Top-level keys W&B's newer schema added after the packaged 0.2.0 (run_cap, launch's job,
# image and scheduler, several metrics): checked here, then hidden from the 0.2.0 schema.
LATER_KEYS = {
    "run_cap": int,
    "job": str,
    "image_uri": str,
    "scheduler": dict,
    "metrics": list,
}
MODULE = "wandb_sweeps"
_lock = threading.Lock()


def _engine():
    """The installed `sweeps` package as `wandb_sweeps`, loaded on first use."""
    module = sys.modules.get(MODULE)
    if module is not None:
        return module
    with _lock:
        if MODULE in sys.modules:
            return sys.modules[MODULE]
        path = Path(importlib.metadata.distribution("sweeps").locate_file("sweeps/__init__.py"))
        spec = importlib.util.spec_from_file_location(
            MODULE, path, submodule_search_locations=[str(path.parent)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[MODULE] = module
        try:
            # pydantic v2 warns about the package's v1-style `class Config`.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[MODULE]
            raise
        return module


def _native(value):
    """numpy scalars and arrays (inside dicts and lists too) as plain JSON values."""
    if isinstance(value, dict):
        return {key: _native(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_native(item) for item in value]
    if isinstance(value, np.ndarray):
        return _native(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _grid_params(config: dict):
    """(the full parameter set, its categorical parameters in grid order) as the engine's grid
    search builds them: int_uniform and q_uniform become categorical. ValueError for a
    parameter a grid cannot enumerate."""
    HyperParameter = _engine().params.HyperParameter
    HyperParameterSet = _engine().params.HyperParameterSet
    params = HyperParameterSet.from_config(config["parameters"])
    allowed = (
        HyperParameter.CATEGORICAL,
        HyperParameter.CONSTANT,
        HyperParameter.INT_UNIFORM,
        HyperParameter.Q_UNIFORM,
    )
    for i, param in enumerate(params):
        if param.type not in allowed:
            name = param.name.replace(HyperParameterSet.NESTING_DELIMITER, ".")
            raise ValueError(
                f"Parameter {name} cannot be searched by a grid: grid search needs every "
                "parameter categorical (values, without probabilities), constant (value), "
                "int_uniform or q_uniform."
            )
        if param.type not in (HyperParameter.INT_UNIFORM, HyperParameter.Q_UNIFORM):
            continue
        low, high = param.config["min"], param.config["max"]
        step = 1 if param.type == HyperParameter.INT_UNIFORM else param.config["q"]
        name = param.name.replace(HyperParameterSet.NESTING_DELIMITER, ".")
        if not step > 0:
            raise ValueError(f"Parameter {name}: q must be above 0.")
        # Counted before the values are built: a huge range must not be materialised.
        count = math.floor((high - low) / step) + 1
        if count > settings.SWEEP_MAX_GRID:
            raise ValueError(
                f"Parameter {name} has {count} grid values; a grid may have at most "
                f"{settings.SWEEP_MAX_GRID} points."
            )
        if param.type == HyperParameter.INT_UNIFORM:
            values = list(range(low, high + 1))
        else:
            values = np.arange(low, high, step).tolist()
        params[i] = HyperParameter(param.name, {"distribution": "categorical", "values": values})
    discrete = [param for param in params if param.type == HyperParameter.CATEGORICAL]
    return params, discrete


def grid_size(config: dict) -> int | None:
    """The number of points of a grid sweep; None for other methods."""
    if config.get("method") != "grid":
        return None
    _params, discrete = _grid_params(config)
    return math.prod(len(param.config["values"]) for param in discrete)


def grid_point(config: dict, index: int) -> dict:
    """The grid's point number `index` (0-based) in the engine's form {"p": {"value": v}}."""
    params, discrete = _grid_params(config)
    for param in reversed(discrete):
        values = param.config["values"]
        index, digit = divmod(index, len(values))
        param.value = values[digit]
    if index:
        raise IndexError("Grid index out of range.")
    return _native(params.to_config())


def _flat_values(params_config: dict) -> dict:
    """{flattened name: value} of a point in the engine's form, names as the engine's."""
    engine = _engine()
    delimiter = engine.params.HyperParameterSet.NESTING_DELIMITER
    flat = {}

    def walk(value, prefix):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{prefix}{key}{delimiter}")
        flat[prefix.removesuffix(delimiter)] = value

    for key, item in params_config.items():
        value = item.get("value") if isinstance(item, dict) else item
        walk(value, f"{key}{delimiter}")
    return flat


def grid_index(config: dict, params: dict) -> int | None:
    """The index of the grid point whose values are `params` (engine form, or a run config
    with {"value": v} at the top level), or None when it is not a point of the grid."""
    if config.get("method") != "grid":
        return None
    _params, discrete = _grid_params(config)
    flat = _flat_values(params)
    index = 0
    for param in discrete:
        values = param.config["values"]
        if param.name not in flat:
            return None
        value = flat[param.name]
        # JSON round trips turn tuples into lists and keep 1 == 1.0 equal, as YAML does.
        matches = [i for i, candidate in enumerate(values) if _native(candidate) == value]
        if not matches:
            return None
        index = index * len(values) + matches[0]
    return index


KIND_NAMES = {int: "a whole number", str: "a string", dict: "a mapping", list: "a list"}


def _schema_config(config: dict) -> dict:
    """The config as the packaged engine's schema knows it (without LATER_KEYS)."""
    return {key: value for key, value in config.items() if key not in LATER_KEYS}


def validate(config) -> list[str]:
    """What is wrong with a sweep config, as sentences (empty when it is usable)."""
    if not isinstance(config, dict):
        return ["The sweep config must be a mapping (YAML keys and values)."]
    parameters = config.get("parameters")
    if not isinstance(parameters, dict) or not parameters:
        return ["The sweep config needs a `parameters` mapping with at least one parameter."]
    problems = []
    for key, kind in LATER_KEYS.items():
        value = config.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            problems.append(f"`{key}` must be {KIND_NAMES[kind]}.")
    run_cap = config.get("run_cap")
    if isinstance(run_cap, int) and not isinstance(run_cap, bool) and run_cap < 1:
        problems.append("`run_cap` must be at least 1.")
    engine = _engine()
    try:
        problems += engine.schema_violations_from_proposed_config(_schema_config(config))
    except ValueError as error:
        problems.append(str(error))
    if problems:
        return problems
    method = config.get("method")
    if method == CUSTOM:
        return []
    if method not in METHODS:
        return [f"Unknown method {method!r}: use grid, random, bayes or custom."]
    metric = config.get("metric")
    if method == "bayes" and not (isinstance(metric, dict) and metric.get("name")):
        problems.append("Bayes search needs a `metric` with a `name` to optimise.")
    if config.get("early_terminate") and not (isinstance(metric, dict) and metric.get("name")):
        problems.append("Early termination needs a `metric` with a `name`.")
    if problems:
        return problems
    try:
        if method == "grid":
            size = grid_size(config)
            if size > settings.SWEEP_MAX_GRID:
                return [
                    f"The grid has {size} points; at most {settings.SWEEP_MAX_GRID} are allowed."
                ]
            if size:
                grid_point(config, 0)
        else:
            # A dry run catches what the schema does not (parameters the method cannot use).
            suggest(config, [])
    except (ValueError, KeyError, TypeError, AssertionError, IndexError) as error:
        return [str(error) or error.__class__.__name__]
    except Exception as error:  # the engine's own validation errors (jsonschema)
        return [getattr(error, "message", None) or str(error)]
    return []


def suggest(config: dict, runs: list[dict]) -> dict:
    """The next point of a random or bayes sweep, in the engine's form. `runs`: the sweep's
    runs so far, each {"name", "state" (a W&B run state), "config" (engine form),
    "summaryMetrics"}; random ignores them."""
    engine = _engine()
    sweep_runs = [
        engine.SweepRun(
            name=run.get("name"),
            state=run.get("state", "finished"),
            config=run.get("config", {}),
            summaryMetrics=run.get("summaryMetrics") or {},
        )
        for run in runs
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        suggestion = engine.next_run(_schema_config(config), sweep_runs, validate=True)
    return _native(suggestion.config)


def to_stop(config: dict, runs: list[dict]) -> list[tuple[str, dict]]:
    """Hyperband early termination: (run name, info) of the runs to stop. `runs` as for
    suggest, plus "history": the metric's values in step order as [{metric: v}, ...]."""
    engine = _engine()
    sweep_runs = [
        engine.SweepRun(
            name=run["name"],
            state=run.get("state", "running"),
            config=run.get("config", {}),
            summaryMetrics=run.get("summaryMetrics") or {},
            sampledHistory=run.get("history") or [],
        )
        for run in runs
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stopped = engine.stop_runs(_schema_config(config), sweep_runs, validate=True)
    return [(run.name, _native(run.early_terminate_info or {})) for run in stopped]
