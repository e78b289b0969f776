from django import forms

from .search import MAX_QUERY_LENGTH, MIN_QUERY_LENGTH


class SearchForm(forms.Form):
    # Not required: an empty search shows the form alone.
    q = forms.CharField(
        label="Search projects, runs, artifacts and registered models",
        required=False,
        min_length=MIN_QUERY_LENGTH,
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "min_length": f"Type at least {MIN_QUERY_LENGTH} characters.",
            "max_length": f"Type at most {MAX_QUERY_LENGTH} characters.",
        },
    )
