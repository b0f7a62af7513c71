"""Form helpers shared by the apps' views."""

from django import forms
from django.core.exceptions import ValidationError


def form_errors_add(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: next to its field when the form has
    that field, at the top otherwise."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, field_messages in exc.message_dict.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)


def visible_text_fields(form: forms.BaseForm, *names: str) -> None:
    """Refuse invisible-only text and bidi controls in these fields (core/text.py), so a
    form shows the message beside the field before any service is called."""
    from .text import validate_visible_text

    for name in names:
        field = form.fields.get(name)
        if field is not None and validate_visible_text not in field.validators:
            field.validators.append(validate_visible_text)
