from django import forms

from .models import Run, SavedView

MAX_TAGS = 50


class RunNameForm(forms.Form):
    name = forms.CharField(
        max_length=Run._meta.get_field("name").max_length,
        label="Run name",
        widget=forms.TextInput(attrs={"autofocus": True}),
    )


class RunEditForm(forms.Form):
    tags = forms.CharField(
        required=False, max_length=2000, help_text="Comma-separated, for example baseline, v2."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def clean_tags(self):
        tags = []
        for tag in self.cleaned_data["tags"].split(","):
            tag = tag.strip()
            if tag and tag not in tags:
                if len(tag) > 64:
                    raise forms.ValidationError(f"“{tag[:20]}…” is longer than 64 characters.")
                tags.append(tag)
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(f"A run has at most {MAX_TAGS} tags.")
        return tags


class SavedViewForm(forms.Form):
    """Save a page's state: `state` is its query string, carried by the form unseen."""

    name = forms.CharField(max_length=100)
    shared = forms.BooleanField(required=False, label="Share with the team")
    kind = forms.ChoiceField(choices=SavedView.Kind.choices, initial=SavedView.Kind.TABLE)
    state = forms.CharField(required=False, max_length=8000, widget=forms.HiddenInput)
