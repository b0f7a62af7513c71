from django import forms

from core.text import validate_visible_text

from .services import SLUG_MAX_LEN


class SignupForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=100, validators=[validate_visible_text])
    slug = forms.CharField(
        label="Subdomain",
        max_length=SLUG_MAX_LEN,
        help_text="Lowercase letters, digits and hyphens. Your address will be <subdomain>.{base}",
    )
    owner_email = forms.EmailField(label="Your email")
    owner_password = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
