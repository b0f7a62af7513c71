"""Error pages for both URL confs (handler400/403/404/500), CSRF failures, and the
bodies of every other error status (405, 410, 423, 429, 503).

They render without a request context: no tenant name, no user, no path, no
database query, so an error page reveals nothing and works while the database is
down. They still carry the app's chrome (templates/errors/_error.html: the header,
the stylesheet, dark mode, a way back). The request ID is shown so a person can quote
it to support.

Under /api/ every error is JSON, `{"detail": "..."}`, whatever raised it: an unknown
API path, a 405, a 500.

A database that is unreachable or restarting is not a bug in the code: the 500
handler turns `OperationalError`/`InterfaceError` into a 503 with Retry-After.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

DB_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_S = 5
API_PREFIX = "/api/"

# The JSON `detail` for each status under /api/ (and the heading's fallback wording).
API_DETAILS = {
    400: "Bad request.",
    401: "Authentication required.",
    403: "Forbidden.",
    404: "Not found.",
    405: "Method not allowed.",
    410: "Gone.",
    413: "Request body too large.",
    423: "This organisation is suspended.",
    429: "Too many requests.",
    500: "Server error; it has been logged.",
    503: "Temporarily unavailable; try again shortly.",
}
# Statuses with a page of their own under templates/; any other uses the generic one.
PAGES = frozenset({400, 403, 404, 405, 410, 429, 500, 503})


def is_api_request(request: HttpRequest | None) -> bool:
    return request is not None and request.path.startswith(API_PREFIX)


def api_error_response(request: HttpRequest | None, status: int, detail: str | None = None) -> HttpResponse:
    response = JsonResponse({"detail": detail or API_DETAILS.get(status, "Error.")}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def error_response(
    request: HttpRequest | None, status: int, template: str | None = None, **context
) -> HttpResponse:
    """The error page for `status` (JSON under /api/)."""
    if is_api_request(request):
        return api_error_response(request, status)
    context["request_id"] = getattr(request, "request_id", None)
    context.setdefault("status", status)
    if template is None:
        template = f"{status}.html" if status in PAGES else "errors/_error.html"
    html = render_to_string(template, context)
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
    if is_api_request(request):
        return api_error_response(
            request, 403, "CSRF check failed: send the CSRF token, or use an API token."
        )
    return error_response(request, 403, "403_csrf.html")
