"""Request-scoped log context (request ID, tenant) and a JSON formatter for production.

`core.middleware.RequestContextMiddleware` binds the current request to a context
variable; `RequestContextFilter` copies its ID and tenant onto every log record.
Context variables are not inherited by new threads, so a background thread never
logs (or acts) under a stale tenant.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)

NO_VALUE = "-"

# Attributes every LogRecord has; anything else came from `extra=` and is kept.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "tenant",
}


def request_id_get() -> str:
    request = current_request.get()
    return getattr(request, "request_id", NO_VALUE) if request is not None else NO_VALUE


def tenant_get() -> str:
    """Schema name of the tenant the current request was routed to, or "-"."""
    request = current_request.get()
    tenant = getattr(request, "tenant", None) if request is not None else None
    return getattr(tenant, "schema_name", NO_VALUE) if tenant is not None else NO_VALUE


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `tenant` to every record (\"-\" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_get()
        record.tenant = tenant_get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, tenant, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_VALUE),
            "tenant": getattr(record, "tenant", NO_VALUE),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
