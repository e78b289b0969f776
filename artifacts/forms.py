from django import forms

DESCRIPTION_MAX = 10_000


class DescriptionForm(forms.Form):
    """Without ids: htmx would carry the old textarea's style attribute (set by Chromium) over to
    the new one by its id, which the CSP refuses."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id=False, **kwargs)

    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "aria-label": "Description"}),
    )
