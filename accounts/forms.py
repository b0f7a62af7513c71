"""Forms for signing in and managing people. Services do the validation that matters."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .models import User
from .services import API_TOKEN_NAME_MAX_LENGTH


class EmailAuthenticationForm(AuthenticationForm):
    """Sign-in by email; emails are stored lowercased, so compare them that way."""

    def clean_username(self) -> str:
        return (self.cleaned_data.get("username") or "").strip().lower()


class InviteForm(forms.Form):
    email = forms.EmailField()
    full_name = forms.CharField(required=False, max_length=150, label="Name")
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.MEMBER)


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(required=False, max_length=150, label="Your name")
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="The same password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "The two passwords differ.")
        return data


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label="New email address")
    password = forms.CharField(
        label="Your current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args, **kwargs) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password


class FindOrganisationForm(forms.Form):
    email = forms.EmailField(label="Your email address")

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=API_TOKEN_NAME_MAX_LENGTH, label="Token name")
