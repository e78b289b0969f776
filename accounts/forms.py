from django import forms

from .models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name"]


class ApiKeyForm(forms.Form):
    label = forms.CharField(
        max_length=100,
        help_text="Where the key will be used, for example “laptop” or “training cluster”.",
    )
