"""Error pages for both URL confs (handler400/403/404/500) and CSRF failures.

They render without a request context: no tenant name, no user, no path, no
database query, so an error page reveals nothing and works while the database is
down. The request ID is shown so a person can quote it to support.

A database that is unreachable or restarting is not a bug in the code: the 500
handler turns `OperationalError`/`InterfaceError` into a 503 with Retry-After.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

DB_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_S = 5


def error_response(
    request: HttpRequest | None, status: int, template: str | None = None, **context
) -> HttpResponse:
    context["request_id"] = getattr(request, "request_id", None)
    html = render_to_string(template or f"{status}.html", context)
    response = HttpResponse(html, status=status, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this from inside its `except` block, so the exception is at hand.
    exc = sys.exc_info()[1]
    if isinstance(exc, DB_UNAVAILABLE_ERRORS):
        return service_unavailable(request)
    return error_response(request, 500)


def service_unavailable(request: HttpRequest | None) -> HttpResponse:
    response = error_response(request, 503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a plain 403 that does not echo Django's reason (it names cookies and referers)."""
    return error_response(request, 403, "403_csrf.html")
