"""One `request` event per HTTP request (plus `api.call` for /api/), and the request scope
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
from .scope import RequestScope, current_request, normalise_method, tenant_id_of
from .sql import MAX_ROUTE_LEN

logger = logging.getLogger(__name__)

UNRESOLVED_ROUTE = "unresolved"
API_PREFIX = "/api/"


class UsageStatsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
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
    # The resolved view name, not the path, keeps route cardinality bounded.
    match = getattr(request, "resolver_match", None)
    route = (match.view_name if match is not None else UNRESOLVED_ROUTE)[:MAX_ROUTE_LEN]
    user_id = scope.user_id()
    method = normalise_method(request.method)
    status = response.status_code
    for event in ("request", "api.call") if request.path.startswith(API_PREFIX) else ("request",):
        record(
            event,
            tenant_id=scope.tenant_id,
            user_id=user_id,
            route=route,
            method=method,
            status=status,
            latency_ms=latency_ms,
        )
