"""One event per HTTP request of a person (`request`, or `api.call` under /api/; static
files, the favicon and health probes are left out, ingest/routes.py), and the request scope
that lets `record()` default the tenant and user.

It sits right after the tenant middleware, so it sees every response of a known host
(404s and 403s included). Requests on unknown hosts are answered by the tenant middleware
before this one runs and are not recorded: they belong to no tenant, and their host names
are chosen by whoever sends them.
"""

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .encoding import NO_TENANT
from .process import record
from .routes import API_PREFIX, is_user_request, request_route
from .scope import RequestScope, current_request, normalise_method, tenant_id_of
from .sql import MAX_ROUTE_LEN

REQUEST_EVENT = "request"
API_EVENT = "api.call"

logger = logging.getLogger(__name__)


class UsageStatsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_user_request(request.path):
            return self.get_response(request)
        started = time.perf_counter()
        scope = RequestScope(tenant_id_of(getattr(request, "tenant", None)) or NO_TENANT, request)
        token = current_request.set(scope)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        try:
            _record_request(request, response, scope, (time.perf_counter() - started) * 1000)
        except Exception:  # statistics never cost a response
            logger.exception("usage_stats: could not record a request")
        return response


def _record_request(
    request: HttpRequest, response: HttpResponse, scope: RequestScope, latency_ms: float
) -> None:
    """Exactly one event per request: `api.call` for the JSON API, `request` for the rest."""
    method = normalise_method(request.method) or "OTHER"
    record(
        API_EVENT if request.path.startswith(API_PREFIX) else REQUEST_EVENT,
        tenant_id=scope.tenant_id,
        user_id=scope.user_id(),
        route=request_route(request, method)[:MAX_ROUTE_LEN],
        method=method,
        status=response.status_code,
        latency_ms=latency_ms,
    )
