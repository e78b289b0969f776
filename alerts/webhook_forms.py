from django import forms

from .models import Webhook
from .webhooks import MAX_URL_LENGTH, WebhookError, clean_url


class WebhookForm(forms.Form):
    """A webhook's name, address and format. On a webhook that exists the address may stay
    empty: pages never show it, and empty keeps it."""

    name = forms.CharField(max_length=100)
    # Not a URLField: receivers inside the operator's network often have one-word host names.
    url = forms.CharField(
        label="Address",
        max_length=MAX_URL_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
        help_text="Kept encrypted; only its scheme and host are shown again.",
    )
    format = forms.ChoiceField(choices=Webhook.Format.choices, initial=Webhook.Format.GENERIC)
    client_alerts = forms.BooleanField(
        required=False,
        label="Also post run.alert()",
        help_text="The alerts the team's runs raise themselves, besides those of rules using it.",
    )

    def __init__(self, *args, webhook: Webhook | None = None, **kwargs):
        if webhook is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": webhook.name,
                    "format": webhook.format,
                    "client_alerts": webhook.client_alerts,
                },
            )
        super().__init__(*args, **kwargs)
        if webhook is not None:
            self.fields["url"].required = False
            self.fields[
                "url"
            ].help_text = (
                f"Now {webhook.url_hint}/…; leave empty to keep it, or give a new address."
            )

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not url:
            return url
        try:
            return clean_url(url)
        except WebhookError as error:
            raise forms.ValidationError(str(error)) from None
