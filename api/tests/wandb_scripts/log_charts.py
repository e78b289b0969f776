"""A script that logs each of the client's chart presets (`wandb.plot.*`) once.

Usage: log_charts.py RESULT.json ENTITY

confusion_matrix, pr_curve and roc_curve compute their tables with numpy (and pandas and
scikit-learn for the curves). Where those are not installed, the chart is logged with
`wandb.plot_table` as the preset would log it: the same chart type, columns, fields and strings
(checked against the presets with the libraries installed)."""

import argparse
import importlib.util
import json
import math

import wandb

parser = argparse.ArgumentParser()
parser.add_argument("result_path")
parser.add_argument("entity")
options = parser.parse_args()

CLASSES = ["cat", "dog", "bird"]
Y_TRUE = [0, 0, 0, 1, 1, 1, 2, 2, 2, 0]
PREDICTED = [0, 0, 1, 1, 1, 2, 2, 2, 0, 0]
# One row of class probabilities per example; each class is most likely where it is predicted.
PROBABILITIES = [[0.9 if c == p else 0.05 for c in range(3)] for p in PREDICTED[:-1]] + [
    [0.5, 0.3, 0.2]
]
HAS_NUMPY = importlib.util.find_spec("numpy") is not None
HAS_CURVE_LIBRARIES = HAS_NUMPY and all(
    importlib.util.find_spec(name) is not None for name in ("pandas", "sklearn")
)


def confusion_matrix():
    if HAS_NUMPY:
        return wandb.plot.confusion_matrix(
            y_true=Y_TRUE, preds=PREDICTED, class_names=CLASSES, title="Confusions"
        )
    counts = {}
    for actual, predicted in zip(Y_TRUE, PREDICTED, strict=True):
        counts[actual, predicted] = counts.get((actual, predicted), 0) + 1
    rows = [
        [CLASSES[a], CLASSES[p], float(counts.get((a, p), 0))] for a in range(3) for p in range(3)
    ]
    table = wandb.Table(columns=["Actual", "Predicted", "nPredictions"], data=rows)
    fields = {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"}
    return wandb.plot_table("wandb/confusion_matrix/v1", table, fields, {"title": "Confusions"})


def curve(kind, title):
    """pr_curve or roc_curve of the three classes."""
    if HAS_CURVE_LIBRARIES:
        preset = getattr(wandb.plot, kind)
        return preset(Y_TRUE, PROBABILITIES, labels=CLASSES, title=title)
    x, y, x_title, y_title = (
        ("recall", "precision", "Recall", "Precision")
        if kind == "pr_curve"
        else ("fpr", "tpr", "False positive rate", "True positive rate")
    )
    # A made-up rising curve per class: the shape of the table is what is being checked.
    rows = [
        [name, round(i / 10, 3), round(math.sqrt(i / 10) ** (c + 1), 3)]
        for c, name in enumerate(CLASSES)
        for i in range(11)
    ]
    columns = ["class", y, x] if kind == "pr_curve" else ["class", x, y]
    if kind == "pr_curve":
        rows = [[name, value, position] for name, position, value in rows]
    table = wandb.Table(columns=columns, data=rows)
    strings = {"title": title, "x-axis-title": x_title, "y-axis-title": y_title}
    fields = {"x": x, "y": y, "class": "class"}
    return wandb.plot_table("wandb/area-under-curve/v0", table, fields, strings)


run = wandb.init(entity=options.entity, project="charts", name="presets")
points = wandb.Table(
    columns=["epoch", "loss", "split"],
    data=[[e, 1 / (e + 1), "train"] for e in range(5)]
    + [[e, 1.2 / (e + 1), "valid"] for e in range(5)],
)
heights = wandb.Table(
    columns=["height"], data=[[h] for h in (1.5, 1.6, 1.6, 1.7, 1.7, 1.7, 1.8, 1.8, 1.9)]
)
scores = wandb.Table(
    columns=["class", "accuracy"], data=[[c, 0.5 + i / 10] for i, c in enumerate(CLASSES)]
)
samples = wandb.Table(columns=["width", "depth"], data=[[w, w * w / 10] for w in range(8)])
run.log(
    {"loss_curve": wandb.plot.line(points, "epoch", "loss", stroke="split", title="Loss by split")}
)
run.log(
    {
        "sines": wandb.plot.line_series(
            xs=list(range(10)),
            ys=[[math.sin(x / 3) for x in range(10)], [math.cos(x / 3) for x in range(10)]],
            keys=["sin", "cos"],
            title="Two waves",
            xname="epoch",
        )
    }
)
run.log({"depths": wandb.plot.scatter(samples, "width", "depth", title="Depth by width")})
run.log({"accuracy": wandb.plot.bar(scores, "class", "accuracy", title="Accuracy per class")})
run.log({"heights": wandb.plot.histogram(heights, "height", title="Heights")})
run.log({"confusions": confusion_matrix()})
run.log({"pr": curve("pr_curve", "Precision and recall")})
run.log({"roc": curve("roc_curve", "ROC")})
run.finish()

result = {
    "id": run.id,
    "presets_computed": HAS_CURVE_LIBRARIES,
    "confusion_matrix_computed": HAS_NUMPY,
}
with open(options.result_path, "w") as out:
    json.dump(result, out)
