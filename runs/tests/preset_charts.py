"""What the wandb 0.31.0 client stores for each `wandb.plot` preset, as recorded with the real
client (api/tests/wandb_scripts/log_charts.py, with numpy, pandas and scikit-learn installed so
that confusion_matrix, pr_curve and roc_curve computed their own tables): the run config's
`_wandb.visualize.<key>`, and the table logged under `<key>_table` (the pr_curve table cut to a
few rows per class)."""

import io
import json

from runs.models import Run, RunFile
from runs.tracking import run_file_store


def visualize_entry(key, chart_type, fields, strings, *, table_key=None):
    """`_wandb.visualize.<key>` as the client writes it (wandb/plot/custom_chart.py)."""
    table_key = table_key or f"{key}_table"
    summary_table = {
        "name": "summaryTable",
        "args": [{"name": "tableKey", "value": table_key}],
        "fields": [],
    }
    return {
        "panel_type": "Vega2",
        "panel_config": {
            "panelDefId": chart_type,
            "fieldSettings": fields,
            "stringSettings": strings,
            "transform": {"name": "tableWithLeafColNames"},
            "userQuery": {
                "queryFields": [
                    {
                        "name": "runSets",
                        "args": [{"name": "runSets", "value": "${runSets}"}],
                        "fields": [
                            {"name": "id", "fields": []},
                            {"name": "name", "fields": []},
                            {"name": "_defaultColorIndex", "fields": []},
                            summary_table,
                        ],
                    }
                ],
            },
        },
    }


SINES = [0.0, 0.327, 0.618, 0.841, 0.972, 0.995, 0.909, 0.723, 0.457, 0.141]
COSINES = [1.0, 0.945, 0.786, 0.54, 0.238, -0.09, -0.416, -0.691, -0.895, -0.99]

# key -> (panelDefId, fieldSettings, stringSettings, table columns, table rows)
PRESETS = {
    "loss_curve": (
        "wandb/line/v0",
        {"x": "epoch", "y": "loss", "stroke": "split"},
        {"title": "Loss by split"},
        ["epoch", "loss", "split"],
        [[e, 1 / (e + 1), "train"] for e in range(5)]
        + [[e, 1.2 / (e + 1), "valid"] for e in range(5)],
    ),
    "sines": (
        "wandb/lineseries/v0",
        {"step": "step", "lineKey": "lineKey", "lineVal": "lineVal"},
        {"title": "Two waves", "xname": "epoch"},
        ["step", "lineKey", "lineVal"],
        [[x, "sin", y] for x, y in enumerate(SINES)]
        + [[x, "cos", y] for x, y in enumerate(COSINES)],
    ),
    "depths": (
        "wandb/scatter/v0",
        {"x": "width", "y": "depth"},
        {"title": "Depth by width"},
        ["width", "depth"],
        [[w, w * w / 10] for w in range(8)],
    ),
    "accuracy": (
        "wandb/bar/v0",
        {"label": "class", "value": "accuracy"},
        {"title": "Accuracy per class"},
        ["class", "accuracy"],
        [["cat", 0.5], ["dog", 0.6], ["bird", 0.7]],
    ),
    "heights": (
        "wandb/histogram/v0",
        {"value": "height"},
        {"title": "Heights"},
        ["height"],
        [[h] for h in (1.5, 1.6, 1.6, 1.7, 1.7, 1.7, 1.8, 1.8, 1.9)],
    ),
    "confusions": (
        "wandb/confusion_matrix/v1",
        {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"},
        {"title": "Confusions"},
        ["Actual", "Predicted", "nPredictions"],
        [
            ["cat", "cat", 3.0],
            ["cat", "dog", 1.0],
            ["cat", "bird", 0.0],
            ["dog", "cat", 0.0],
            ["dog", "dog", 2.0],
            ["dog", "bird", 1.0],
            ["bird", "cat", 1.0],
            ["bird", "dog", 0.0],
            ["bird", "bird", 2.0],
        ],
    ),
    "pr": (
        "wandb/area-under-curve/v0",
        {"x": "recall", "y": "precision", "class": "class"},
        {"title": "Precision and recall", "x-axis-title": "Recall", "y-axis-title": "Precision"},
        ["class", "precision", "recall"],
        # Recall from 1 down to 0, as pr_curve interpolates it.
        [
            ["cat", 0.4, 1.0],
            ["cat", 0.75, 0.5],
            ["cat", 1.0, 0.0],
            ["dog", 0.3, 1.0],
            ["dog", 0.667, 0.5],
            ["dog", 1.0, 0.0],
            ["bird", 0.333, 1.0],
            ["bird", 0.667, 0.5],
            ["bird", 1.0, 0.0],
        ],
    ),
    "roc": (
        "wandb/area-under-curve/v0",
        {"x": "fpr", "y": "tpr", "class": "class"},
        {
            "title": "ROC",
            "x-axis-title": "False positive rate",
            "y-axis-title": "True positive rate",
        },
        ["class", "fpr", "tpr"],
        [
            ["cat", 0.0, 0.0],
            ["cat", 0.167, 0.5],
            ["cat", 0.167, 0.75],
            ["cat", 1.0, 1.0],
            ["dog", 0.0, 0.0],
            ["dog", 0.143, 0.667],
            ["dog", 0.286, 0.667],
            ["dog", 1.0, 1.0],
            ["bird", 0.0, 0.0],
            ["bird", 0.143, 0.667],
            ["bird", 0.286, 0.667],
            ["bird", 1.0, 1.0],
        ],
    ),
}


def table_value(key: str, step: int, rows: int) -> dict:
    """The `table-file` value the client logs (history and summary) for a chart's table."""
    return {
        "_type": "table-file",
        "path": f"media/table/{key}_table_{step}_9550cedcaea7f3502fb4.table.json",
        "sha256": "9550cedcaea7f3502fb4" + "0" * 44,
        "size": 238,
        "ncols": 3,
        "nrows": rows,
        "log_mode": "IMMUTABLE",
    }


def log_chart(run: Run, key: str, chart_type, fields, strings, columns, rows, *, upload=True):
    """Store a chart as the client leaves it: its config entry, the summary's table value and,
    unless `upload` is false, the uploaded table file."""
    run.config.setdefault("_wandb", {}).setdefault("visualize", {})[key] = visualize_entry(
        key, chart_type, fields, strings
    )
    value = table_value(key, len(run.summary), len(rows))
    run.summary[f"{key}_table"] = value
    Run.objects.filter(pk=run.pk).update(config=run.config, summary=run.summary)
    if upload:
        content = json.dumps({"columns": columns, "data": rows}).encode()
        file = RunFile.objects.create(run=run, name=value["path"])
        run_file_store(file, io.BytesIO(content))


def log_presets(run: Run, keys=None) -> None:
    for key in keys or PRESETS:
        log_chart(run, key, *PRESETS[key])
