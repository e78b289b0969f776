from django import forms

from .models import Project


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
    class Meta:
        model = Project
        fields = ["description", "visibility"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.entity.is_private:
            # A private team's projects are members-only: the public option is not offered.
            self.fields["visibility"].choices = [
                (Project.Visibility.TEAM, Project.Visibility.TEAM.label)
            ]
            self.fields["visibility"].help_text = (
                f"{self.instance.entity.name} is a private team: its projects are visible "
                "to members only."
            )


class ProjectDeleteForm(forms.Form):
    confirm_name = forms.CharField(label="Type the project's name to confirm")
