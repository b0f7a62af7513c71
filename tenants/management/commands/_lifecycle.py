"""Shared argument handling for the tenant lifecycle commands."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from tenants.models import Client
from tenants.selectors import tenant_get


def tenant_or_error(slug: str) -> Client:
    tenant = tenant_get(slug=slug)
    if tenant is None:
        raise CommandError(f"No tenant with slug {slug!r}.")
    return tenant


def error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
    return " ".join(exc.messages)
