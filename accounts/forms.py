"""Forms for signing in and managing people. Services do the validation that matters."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from core.text import validate_visible_text

from .models import User
from .services import API_TOKEN_NAME_MAX_LENGTH


class EmailAuthenticationForm(AuthenticationForm):
    """Sign-in by email; emails are stored lowercased, so compare them that way."""

    def clean_username(self) -> str:
        return (self.cleaned_data.get("username") or "").strip().lower()


class InviteForm(forms.Form):
    email = forms.EmailField()
    full_name = forms.CharField(
        required=False, max_length=150, label="Name", validators=[validate_visible_text]
    )
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.MEMBER)
    password = forms.CharField(
        label="Initial password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Share it with them together with the sign-in link; they can change it under Settings.",
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=API_TOKEN_NAME_MAX_LENGTH, label="Token name", validators=[validate_visible_text]
    )
