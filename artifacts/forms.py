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


class CollectionForm(forms.Form):
    """A collection's name, description and (for a sequence) type; the services check them."""

    name = forms.CharField(max_length=128)
    type = forms.CharField(max_length=128, required=False)
    description = forms.CharField(
        required=False, max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, collection, **kwargs):
        super().__init__(*args, **kwargs)
        if collection.is_portfolio:
            # A registered model takes the type of what is linked into it.
            del self.fields["type"]


class TagForm(forms.Form):
    """One tag's name, to add or to remove; its rule is the service's (`check_tags`). Without
    ids, as the description's form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id=False, **kwargs)

    name = forms.CharField(
        error_messages={"required": "A tag needs a name."},
        widget=forms.TextInput(attrs={"aria-label": "New tag", "placeholder": "New tag"}),
    )
