from django import forms
from django.conf import settings

from .models import Entity, Role, entity_name_validator
from .services import validate_entity_name


class TeamCreateForm(forms.Form):
    name = forms.CharField(
        max_length=39,
        help_text="Lowercase letters, digits, dashes and underscores. It cannot be changed later.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )

    def clean_name(self):
        return validate_entity_name(self.cleaned_data["name"].strip().lower())


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.human_choices(), initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.human_choices())


class PrivacyForm(forms.Form):
    is_private = forms.BooleanField(required=False, label="Private team")


class ServiceAccountForm(forms.Form):
    name = forms.CharField(
        max_length=39,
        validators=[entity_name_validator],
        help_text="For example ci or nightly-eval.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_name(self):
        return self.cleaned_data["name"].strip().lower()


class KeyLabelForm(forms.Form):
    label = forms.CharField(max_length=100)


class DefaultEntityForm(forms.Form):
    entity = forms.ModelChoiceField(queryset=Entity.objects.none(), empty_label=None)

    def __init__(self, *args, entities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].queryset = entities
        self.fields["entity"].to_field_name = "name"
        self.fields["entity"].label_from_instance = lambda e: (
            f"{e.name} (team)" if e.is_team else f"{e.name} (personal)"
        )


def team_url_preview(name="<name>"):
    return f"{settings.SITE_URL}/{name}/"
