"""Forms of the report editor. A block's form turns its fields into the block's settings
(reports/blocks.py checks them) and back."""

from django import forms

from .blocks import (
    BOARD_ROWS,
    DEFAULT_BOARD_ROWS,
    DEFAULT_TABLE_ROWS,
    MAX_PARALLEL,
    MAX_STEP,
    TABLE_ROWS,
)
from .comments import MAX_BODY
from .models import Report, ReportBlock
from .share import DEFAULT_LINK_DAYS, LINK_DAYS, MAX_LABEL

Kind = ReportBlock.Kind


class ReportForm(forms.Form):
    title = forms.CharField(max_length=200)


class PublishForm(forms.Form):
    note = forms.CharField(
        max_length=500, required=False, help_text="What changed, for the history (optional)."
    )


class VisibilityForm(forms.Form):
    visibility = forms.ChoiceField(
        choices=Report.Visibility.choices, widget=forms.RadioSelect, label="Who may read it"
    )


class ShareLinkForm(forms.Form):
    label = forms.CharField(
        max_length=MAX_LABEL, required=False, help_text="Who the link is for (optional)."
    )
    days = forms.TypedChoiceField(
        choices=[(days, f"{days} day{'s' if days > 1 else ''}") for days in LINK_DAYS],
        coerce=int,
        initial=DEFAULT_LINK_DAYS,
        label="Works for",
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class RunSetFields(forms.Form):
    query = forms.CharField(
        required=False,
        max_length=2000,
        label="Runs where",
        help_text=(
            'A runs query, e.g. tags has "baseline" and summary.loss < 1; empty: every run.'
            " Changing the query of a frozen panel unfreezes it (freeze the report again to"
            " keep the runs it matches then)."
        ),
    )
    run_ids = forms.CharField(
        required=False,
        max_length=4000,
        label="Or these run ids",
        help_text="Comma-separated; when given, the query is not used.",
    )

    # The settings being edited (block_form sets them): a frozen run set stays frozen while
    # its query is kept as it was.
    previous: dict | None = None

    def run_set(self) -> dict:
        ids = _split(self.cleaned_data["run_ids"])
        if ids:
            return {"ids": ids}
        query = self.cleaned_data["query"]
        before = (self.previous or {}).get("runs") or {}
        if "frozen" in before and before.get("query", "").strip() == query.strip():
            return {**before, "query": query}
        return {"query": query}

    def initial_run_set(self, run_set: dict) -> dict:
        if "ids" in run_set:
            return {"run_ids": ", ".join(run_set["ids"])}
        return {"query": run_set.get("query", "")}


class TextBlockForm(forms.Form):
    markdown = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: headings, lists, links, tables, code.",
    )

    def config(self) -> dict:
        return {"markdown": self.cleaned_data["markdown"]}

    @classmethod
    def initial_for(cls, config: dict) -> dict:
        return {"markdown": config.get("markdown", "")}


class LineChartForm(RunSetFields):
    title = forms.CharField(required=False, max_length=200)
    metrics = forms.CharField(
        max_length=4000, help_text="History metrics, comma-separated, e.g. loss, val_loss."
    )
    field_order = ["title", "metrics", "query", "run_ids"]

    def config(self) -> dict:
        return {
            "title": self.cleaned_data["title"],
            "metrics": _split(self.cleaned_data["metrics"]),
            "runs": self.run_set(),
        }

    @classmethod
    def initial_for(cls, config: dict) -> dict:
        return {
            "title": config.get("title", ""),
            "metrics": ", ".join(config.get("metrics", [])),
            **cls().initial_run_set(config.get("runs", {})),
        }


class RunsTableForm(RunSetFields):
    columns = forms.CharField(
        required=False,
        max_length=4000,
        help_text="Comma-separated, e.g. summary.loss, config.lr.",
    )
    sort = forms.CharField(
        required=False,
        max_length=300,
        help_text="A field, with - first for descending, e.g. -summary.accuracy; empty: newest.",
    )
    limit = forms.IntegerField(
        min_value=1, max_value=TABLE_ROWS, initial=DEFAULT_TABLE_ROWS, label="Rows"
    )

    def config(self) -> dict:
        return {
            "runs": self.run_set(),
            "columns": _split(self.cleaned_data["columns"]),
            "sort": self.cleaned_data["sort"],
            "limit": self.cleaned_data["limit"],
        }

    @classmethod
    def initial_for(cls, config: dict) -> dict:
        return {
            "columns": ", ".join(config.get("columns", [])),
            "sort": config.get("sort", ""),
            "limit": config.get("limit", DEFAULT_TABLE_ROWS),
            **cls().initial_run_set(config.get("runs", {})),
        }


FIELD_HELP = "summary.<key> or config.<key>"


def _field(label: str, required: bool = True, help_text: str = FIELD_HELP):
    return forms.CharField(label=label, max_length=300, required=required, help_text=help_text)


class LeaderboardForm(RunSetFields):
    metric = _field("Metric", help_text="What runs are ranked by: " + FIELD_HELP + ".")
    best = forms.ChoiceField(
        choices=[("max", "Highest first"), ("min", "Lowest first")], label="Best"
    )
    limit = forms.IntegerField(
        min_value=1, max_value=BOARD_ROWS, initial=DEFAULT_BOARD_ROWS, label="Rows"
    )
    columns = forms.CharField(
        required=False,
        max_length=4000,
        help_text="More columns, comma-separated, e.g. config.lr, summary.epoch (optional).",
    )
    field_order = ["metric", "best", "limit", "columns", "query", "run_ids"]

    def config(self) -> dict:
        return {
            "runs": self.run_set(),
            "metric": self.cleaned_data["metric"],
            "best": self.cleaned_data["best"],
            "limit": self.cleaned_data["limit"],
            "columns": _split(self.cleaned_data["columns"]),
        }

    @classmethod
    def initial_for(cls, config: dict) -> dict:
        return {
            "metric": config.get("metric", ""),
            "best": config.get("best", "max"),
            "limit": config.get("limit", DEFAULT_BOARD_ROWS),
            "columns": ", ".join(config.get("columns", [])),
            **cls().initial_run_set(config.get("runs", {})),
        }


class ScatterForm(RunSetFields):
    x = _field("x")
    y = _field("y")
    color = _field("Colour", required=False, help_text=FIELD_HELP + " (optional).")
    field_order = ["x", "y", "color", "query", "run_ids"]

    def config(self) -> dict:
        data = self.cleaned_data
        config = {"runs": self.run_set(), "x": data["x"], "y": data["y"]}
        if data["color"].strip():
            config["color"] = data["color"]
        return config

    @classmethod
    def initial_for(cls, config: dict) -> dict:
        return {
            "x": config.get("x", ""),
            "y": config.get("y", ""),
            "color": config.get("color", ""),
            **cls().initial_run_set(config.get("runs", {})),
        }


class ParallelCoordinatesForm(RunSetFields):
    columns = forms.CharField(
        max_length=4000,
        help_text=(
            f"2 to {MAX_PARALLEL} numeric columns, comma-separated, e.g. config.lr,"
            " config.batch_size, summary.loss; the last one colours the lines."
        ),
    )
    field_order = ["columns", "query", "run_ids"]

    def config(self) -> dict:
        return {"runs": self.run_set(), "columns": _split(self.cleaned_data["columns"])}

    @classmethod
    def initial_for(cls, config: dict) -> dict:
        return {
            "columns": ", ".join(config.get("columns", [])),
            **cls().initial_run_set(config.get("runs", {})),
        }


class MediaForm(forms.Form):
    run = forms.CharField(
        label="Run id", max_length=256, help_text="The id of a run of the project."
    )
    key = forms.CharField(
        label="Media key", max_length=256, help_text="The key its images were logged under."
    )
    step = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_STEP, help_text="Empty: the latest step."
    )

    def config(self) -> dict:
        config = {"run": self.cleaned_data["run"], "key": self.cleaned_data["key"]}
        if self.cleaned_data["step"] is not None:
            config["step"] = self.cleaned_data["step"]
        return config

    @classmethod
    def initial_for(cls, config: dict) -> dict:
        return {key: config.get(key) for key in ("run", "key", "step")}


class ArtifactForm(forms.Form):
    artifact = forms.CharField(
        max_length=400,
        help_text="An artifact of this project and its version or alias, e.g. model:latest.",
    )

    def config(self) -> dict:
        return {"artifact": self.cleaned_data["artifact"]}

    @classmethod
    def initial_for(cls, config: dict) -> dict:
        return {"artifact": config.get("artifact", "")}


class RegisteredModelForm(forms.Form):
    model = forms.CharField(
        label="Registered model",
        max_length=400,
        help_text=(
            "A model of the team's registry and its version or alias, e.g. classifier:production."
        ),
    )

    def config(self) -> dict:
        return {"model": self.cleaned_data["model"]}

    @classmethod
    def initial_for(cls, config: dict) -> dict:
        return {"model": config.get("model", "")}


BLOCK_FORMS = {
    Kind.TEXT: TextBlockForm,
    Kind.LINE_CHART: LineChartForm,
    Kind.RUNS_TABLE: RunsTableForm,
    Kind.LEADERBOARD: LeaderboardForm,
    Kind.SCATTER: ScatterForm,
    Kind.PARALLEL_COORDINATES: ParallelCoordinatesForm,
    Kind.MEDIA: MediaForm,
    Kind.ARTIFACT: ArtifactForm,
    Kind.REGISTERED_MODEL: RegisteredModelForm,
}
# Where the settings' checks report a problem, by form field.
CONFIG_FIELDS = {"runs": "query", "kind": None, "config": None}


def block_form(kind: str, data=None, config: dict | None = None, prefix: str = ""):
    """The form of a kind of block; given the block's settings, filled in with them (and,
    bound, keeping what the form does not show, such as a frozen run set)."""
    form_class = BLOCK_FORMS[kind]
    initial = form_class.initial_for(config) if config is not None else None
    form = form_class(data=data, initial=initial, prefix=prefix or None)
    form.previous = config
    return form


def add_config_errors(form, error) -> None:
    """Show a ValidationError of the block settings on the form field it concerns."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            field = CONFIG_FIELDS.get(name, name)
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown.",
        error_messages={"required": "Write a comment."},
    )
