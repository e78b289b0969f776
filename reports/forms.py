"""Forms of the report editor. A block's form turns its fields into the block's settings
(reports/blocks.py checks them) and back."""

from django import forms

from .blocks import DEFAULT_TABLE_ROWS, TABLE_ROWS
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
        help_text='A runs query, e.g. tags has "baseline" and summary.loss < 1; empty: every run.',
    )
    run_ids = forms.CharField(
        required=False,
        max_length=4000,
        label="Or these run ids",
        help_text="Comma-separated; when given, the query is not used.",
    )

    def run_set(self) -> dict:
        ids = _split(self.cleaned_data["run_ids"])
        return {"ids": ids} if ids else {"query": self.cleaned_data["query"]}

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


BLOCK_FORMS = {
    Kind.TEXT: TextBlockForm,
    Kind.LINE_CHART: LineChartForm,
    Kind.RUNS_TABLE: RunsTableForm,
}
# Where the settings' checks report a problem, by form field.
CONFIG_FIELDS = {"runs": "query", "kind": None, "config": None}


def block_form(kind: str, data=None, config: dict | None = None, prefix: str = ""):
    form_class = BLOCK_FORMS[kind]
    initial = form_class.initial_for(config) if config is not None else None
    return form_class(data=data, initial=initial, prefix=prefix or None)


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
