"""Outermost middleware: request IDs, log context, metrics, and `/healthz` on any host.

Order in settings.MIDDLEWARE: RequestContextMiddleware, then HealthCheckMiddleware,
then the tenant middleware. Both run before host routing so unknown hosts get a
request ID too, and a load balancer can probe `/healthz` with any Host header.
"""

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.log import log_response

from . import metrics
from .errors import api_error_response, error_response, is_api_request
from .health import HEALTHZ_PATHS, healthz
from .logging import current_request

REQUEST_ID_HEADER = "X-Request-ID"
# An ID from the proxy is kept only if it cannot smuggle anything into logs or headers.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_for(request: HttpRequest) -> str:
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    return incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex


class RequestContextMiddleware:
    """Gives each request an ID (kept from a sane X-Request-ID, else new), binds the
    request to the log context for its duration, echoes the ID in the response and
    counts the request in Prometheus."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request.request_id = request_id_for(request)
        token = current_request.set(request)
        try:
            response = self.get_response(request)
            if response.status_code >= 400:
                # Django logs 4xx after the middleware chain, outside this context; log here
                # instead (Django skips responses already logged) so the line has the ID and tenant.
                log_response(
                    "%s: %s", response.reason_phrase, request.path, response=response, request=request
                )
        finally:
            current_request.reset(token)
        response[REQUEST_ID_HEADER] = request.request_id
        metrics.request_observe(request, response, time.perf_counter() - started)
        return response


class HealthCheckMiddleware:
    """Answers GET/HEAD /healthz before host routing, so it works on every host."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in HEALTHZ_PATHS and request.method in ("GET", "HEAD"):
            request.is_healthz = True
            return healthz(request)
        return self.get_response(request)


class ErrorPageMiddleware:
    """Gives every error response a body people (or API clients) can read.

    Django and django-ninja answer some errors with an empty body: a 405 from
    `require_http_methods` or from an API operation, a bare `HttpResponseNotAllowed`,
    a `HttpResponseGone`. Such a response gets the branded page of its status
    (core/errors.py) with its headers (`Allow`, `Retry-After`) kept. Under /api/ every
    error that is not JSON already becomes `{"detail": ...}`.

    Sits just inside HealthCheckMiddleware, outside host routing, so the unknown-host and
    suspended pages pass through it too.
    """

    KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        if status < 400 or getattr(response, "streaming", False):
            return response
        content_type = response.get("Content-Type", "")
        if is_api_request(request):
            if content_type.startswith("application/json"):
                return response
            replacement = api_error_response(request, status)
        elif response.content:
            return response
        else:
            replacement = error_response(request, status)
        for header in self.KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        return replacement
