"""What `record()` may know about the current request: the tenant and, if the request
has already loaded it, the signed-in user. Set by the middleware; pure otherwise."""

from __future__ import annotations

import contextvars
from typing import Any

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


class RequestScope:
    """What record() may read about the current request (set by the middleware)."""

    __slots__ = ("request", "tenant")

    def __init__(self, tenant: str, request: Any) -> None:
        self.tenant = tenant
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


def default_tenant() -> str:
    """The default connection's schema (django-tenants sets it per request), or `public`."""
    try:
        from django.db import connection

        # schema_name exists on django-tenants' wrapper only: untyped on Django's.
        schema = getattr(connection, "schema_name", None)
    except Exception:
        return "public"
    return schema if isinstance(schema, str) and schema else "public"


def normalise_method(method: str | None) -> str | None:
    """HTTP methods are client-chosen: anything unusual becomes OTHER."""
    if method is None:
        return None
    return method if method in _METHODS else "OTHER"
