from urllib.parse import urlencode

from django import forms

from runs.models import Run

from . import selectors
from .models import AlertRule, Webhook

Kind = AlertRule.Kind

# The parameters each kind reads; the form shows the others only to the kinds that use them
# (static/css/alerts.css hides the rest, no script) and resets them, so a value typed for
# another kind is never stored.
KIND_FIELDS = {
    Kind.THRESHOLD: {"metric", "aggregate", "window", "comparison", "threshold"},
    Kind.CHANGE: {"metric", "window", "previous_window", "comparison", "threshold", "mode"},
    Kind.BASELINE: {
        "metric",
        "direction",
        "tolerance",
        "mode",
        "baseline_run",
        "baseline_portfolio",
        "baseline_alias",
    },
    Kind.OUTLIER: {"metric", "threshold", "direction", "peer_runs"},
    Kind.NONFINITE: {"metric", "window"},
    Kind.FAILED: set(),
    Kind.CRASHED: set(),
    Kind.STALLED: {"stall_minutes", "stall_signal"},
}
COMMON_FIELDS = ("name", "kind", "scope", "cooldown")
DELIVERY_FIELDS = ("notify_email", "notify_in_app", "webhooks")
PARAMETER_FIELDS = (
    "metric",
    "aggregate",
    "window",
    "previous_window",
    "comparison",
    "threshold",
    "mode",
    "direction",
    "tolerance",
    "baseline_run",
    "baseline_portfolio",
    "baseline_alias",
    "peer_runs",
    "stall_minutes",
    "stall_signal",
)
LABELS = {
    "window": "Values read (N)",
    "previous_window": "Previous values (M)",
    "threshold": "Threshold",
    "comparison": "Fires when the value is",
    "direction": "Better is",
    "baseline_run": "Baseline run (its id)",
    "baseline_portfolio": "Or the registered model",
    "baseline_alias": "and its alias",
    "peer_runs": "Runs compared (K)",
    "stall_minutes": "Quiet minutes",
    "stall_signal": "Quiet means",
    "cooldown": "Cooldown (seconds)",
    "notify_email": "Email me",
    "notify_in_app": "Notify me here (the bell)",
    "webhooks": "Post to the team's webhooks",
}
HELP = {
    "threshold": "Threshold: the number compared with. Change: the amount (a fraction such as "
    "0.1 when relative). Outlier: the z-score.",
    "baseline_run": "A run of this project; or leave it empty and choose a registered model "
    "and alias below.",
    "mode": "Change: the difference itself or as a fraction of the previous mean. Baseline: "
    "the tolerance likewise.",
}


class AlertRuleForm(forms.ModelForm):
    """One form for every kind. The model's clean() decides what each kind needs, so its
    errors land under the fields they name; the scope is checked by the query parser."""

    baseline_run = forms.ModelChoiceField(
        queryset=Run.objects.none(),
        to_field_name="run_id",
        required=False,
        label=LABELS["baseline_run"],
        help_text=HELP["baseline_run"],
        widget=forms.TextInput(attrs={"list": "baseline-runs", "autocomplete": "off"}),
        error_messages={"invalid_choice": "No run with this id in the project."},
    )

    class Meta:
        model = AlertRule
        fields = (*COMMON_FIELDS, *PARAMETER_FIELDS, *DELIVERY_FIELDS)
        labels = LABELS
        help_texts = HELP
        widgets = {
            "scope": forms.TextInput(
                attrs={"placeholder": 'config.model = "resnet50" and tags has "nightly"'}
            ),
            "metric": forms.TextInput(attrs={"placeholder": "val/loss"}),
            "webhooks": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.project = project
        self.fields["kind"].choices = Kind.choices
        self.fields["kind"].initial = self.instance.kind or Kind.THRESHOLD
        self.fields["cooldown"].required = False
        self.fields["direction"].choices = [
            ("", "— (outlier: either side)"),
            *AlertRule.Direction.choices,
        ]
        if self.instance.baseline_run_id is not None:
            # The field names runs by their run id; the model's initial value is the pk.
            self.initial["baseline_run"] = self.instance.baseline_run.run_id
        self.fields["baseline_run"].queryset = Run.objects.filter(project=project)
        self.fields["baseline_portfolio"].queryset = selectors.registered_models(project)
        self.fields["baseline_portfolio"].label = LABELS["baseline_portfolio"]
        self.fields["webhooks"].queryset = Webhook.objects.filter(entity_id=project.entity_id)
        self.fields["webhooks"].help_text = ""
        for name in ("notify_email", "notify_in_app"):
            self.fields[name].label_suffix = ""  # a checkbox's label follows it
        for name in PARAMETER_FIELDS:
            # What a kind needs is the model's to say (clean()); a blank number takes the
            # model's default.
            self.fields[name].required = False
            kinds = [kind for kind, used in KIND_FIELDS.items() if name in used]
            self.fields[name].kinds = " ".join(kinds)

    def clean(self):
        cleaned = super().clean()
        used = KIND_FIELDS.get(cleaned.get("kind"), set(PARAMETER_FIELDS))
        for name in PARAMETER_FIELDS:
            if name not in cleaned:
                continue  # it has an error already
            field = AlertRule._meta.get_field(name)
            if name not in used or (cleaned[name] in (None, "") and field.has_default()):
                cleaned[name] = field.get_default()
        if cleaned.get("cooldown") is None and "cooldown" not in self.errors:
            cleaned["cooldown"] = AlertRule._meta.get_field("cooldown").get_default()
        return cleaned

    def common_fields(self):
        return [self[name] for name in COMMON_FIELDS]

    def delivery_fields(self):
        return [self[name] for name in DELIVERY_FIELDS]

    def parameter_fields(self):
        """(bound field, the kinds that use it) in the form's order, for the template."""
        return [(self[name], self.fields[name].kinds) for name in PARAMETER_FIELDS]


SNOOZES = {"1h": 1, "1d": 24}


class SnoozeForm(forms.Form):
    hours = forms.ChoiceField(choices=[("1h", "1 hour"), ("1d", "1 day"), ("off", "Wake up")])


class HistoryFilterForm(forms.Form):
    rule = forms.ChoiceField(required=False)
    run = forms.CharField(required=False, max_length=128, widget=forms.HiddenInput)

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [
            ("", "Every rule"),
            (selectors.CLIENT_ALERTS, "run.alert() from code"),
            *selectors.rule_filter_choices(project),
        ]

    def query_string(self) -> str:
        """The filters, for the pager's links."""
        if not self.is_valid():
            return ""
        return urlencode({name: value for name, value in self.cleaned_data.items() if value})
