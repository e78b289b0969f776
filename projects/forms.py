from django import forms

from teams.models import Role

from .models import Project
from .services import RESTRICTED_NOT_PUBLIC


class ProjectCreateForm(forms.Form):
    entity = forms.ModelChoiceField(queryset=None, empty_label=None, to_field_name="name")
    name = forms.CharField(max_length=128, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    visibility = forms.ChoiceField(choices=Project.Visibility, initial=Project.Visibility.TEAM)

    def __init__(self, *args, entities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].queryset = entities
        self.fields["entity"].label_from_instance = lambda e: (
            f"{e.name} (team{', private' if e.is_private else ''})"
            if e.is_team
            else f"{e.name} (personal)"
        )


class ProjectSettingsForm(forms.ModelForm):
    """The project's description and visibility; for the team's admins (`candidates`, the
    memberships they may name) also who may see it: restricted, and the members named on it."""

    restricted = forms.BooleanField(
        required=False,
        label="Restricted",
        help_text="Only the members named below and the team's admins see this project; to "
        "everyone else in the team it does not exist.",
    )
    members = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Named members",
        help_text="Service accounts log here only when they are named.",
    )

    class Meta:
        model = Project
        fields = ["description", "visibility"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        if candidates is None or not self.instance.entity.is_team:
            del self.fields["restricted"], self.fields["members"]
        else:
            self.fields["restricted"].initial = self.instance.is_restricted
            self.fields["members"].queryset = candidates
            self.fields["members"].initial = [m.pk for m in candidates if m.is_named]
            self.fields["members"].label_from_instance = lambda m: (
                f"{m.user.username} (service account)"
                if m.role == Role.SERVICE
                else m.user.username
            )
        if self.instance.entity.is_private:
            # A private team's projects are members-only: the public option is not offered.
            self.fields["visibility"].choices = [
                (Project.Visibility.TEAM, Project.Visibility.TEAM.label)
            ]
            self.fields["visibility"].help_text = (
                f"{self.instance.entity.name} is a private team: its projects are visible "
                "to members only."
            )

    def clean(self):
        cleaned = super().clean()
        restricted = cleaned.get("restricted", self.instance.is_restricted)
        if restricted and cleaned.get("visibility") == Project.Visibility.PUBLIC:
            self.add_error("visibility", RESTRICTED_NOT_PUBLIC)
        return cleaned


class ProjectDeleteForm(forms.Form):
    confirm_name = forms.CharField(label="Type the project's name to confirm")

    def typed_name(self) -> str:
        """The name typed, or "" (the service then says which name to type)."""
        return self.cleaned_data["confirm_name"] if self.is_valid() else ""
