"""What `record()` may know about the current request: the tenant's id and, if the request
has already loaded it, the signed-in user. Set by the middleware; pure otherwise.

Tenants are named by their uuid (`tenants.Client.uuid`, never reused), not by their schema
name, which a rename or a purge may hand to another organisation."""

from __future__ import annotations

import contextvars
from typing import Any

from .encoding import NO_TENANT

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


class RequestScope:
    """What record() may read about the current request (set by the middleware)."""

    __slots__ = ("request", "tenant_id")

    def __init__(self, tenant_id: Any, request: Any) -> None:
        self.tenant_id = tenant_id
        self.request = request

    def user_id(self) -> int | None:
        """The signed-in user's id if the request has already loaded the user (session or
        API token); never a query on the caller's behalf."""
        for attr in ("user", "auth"):
            candidate = self.request.__dict__.get(attr)
            if candidate is None:
                continue
            user = getattr(candidate, "__dict__", {}).get("_wrapped", candidate)  # SimpleLazyObject
            if getattr(user, "is_authenticated", False) is True and isinstance(
                getattr(user, "pk", None), int
            ):
                pk: int = user.pk
                return pk
        return None


current_request: contextvars.ContextVar[RequestScope | None] = contextvars.ContextVar(
    "usage_stats_request", default=None
)


def tenant_id_of(tenant: Any) -> Any:
    """A tenant object's uuid (`Client.uuid`), or None (django-tenants' FakeTenant, None)."""
    return getattr(tenant, "uuid", None)


def default_tenant_id() -> Any:
    """The uuid of the tenant the default connection is set to (django-tenants sets
    `connection.tenant` per request, and tenant-schemas-celery per task), else NO_TENANT."""
    try:
        from django.db import connection

        # `tenant` exists on django-tenants' wrapper only: untyped on Django's.
        tenant_id = tenant_id_of(getattr(connection, "tenant", None))
    except Exception:
        return NO_TENANT
    return tenant_id if tenant_id is not None else NO_TENANT


def normalise_method(method: str | None) -> str | None:
    """HTTP methods are client-chosen: anything unusual becomes OTHER."""
    if method is None:
        return None
    return method if method in _METHODS else "OTHER"
