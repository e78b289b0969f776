from django import forms

DESCRIPTION_MAX = 10_000


class DescriptionForm(forms.Form):
    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
