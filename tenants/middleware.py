"""Host -> tenant routing, answered from the in-process routing table (tenants/routing.py).

Hosts are normalised by tenants.hosts.host_normalise (lowercase, port and one trailing dot
removed), the same function that normalises registered domains. Only an exact registered
domain routes: `www.acme.localhost` is not `acme.localhost` (django-tenants strips `www.`;
this does not), so it is a plain 404 unless staff register it as a domain, and it can never
reach another tenant by accident. An unknown, malformed or disallowed host gets the same
plain 404, which names no tenant.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils import timezone

from .hosts import host_normalise
from .routing import route_cache

SUSPENDED_STATUS = 423  # Locked: the organisation exists, its data is kept, access is closed.


def request_host(request: HttpRequest) -> str | None:
    """The request's host, normalised for routing, or None if it is malformed."""
    try:
        raw = request.get_host()
    except DisallowedHost:
        return None
    return host_normalise(raw)


class TenantMiddleware:
    """Routes every request to its tenant's schema with no query on a warm table.

    Must come before anything that reads the host: with ALLOWED_HOSTS = ["*"] this is the
    host check, and only registered domains get past it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The previous request may have left the connection on another tenant.
        connection.set_schema_to_public()
        host = request_host(request)
        route = route_cache.lookup(host) if host else None
        if route is None:
            return unknown_host_response(request)
        tenant = route.tenant()
        tenant.domain_url = host
        request.tenant = tenant
        if route.is_suspended:
            return suspended_response(request)
        if route.redirect_to is not None:
            # An old host kept after a change of subdomain (Domain.redirect_until).
            if route.redirect_until is None or route.redirect_until <= timezone.now():
                return unknown_host_response(request)
            return moved_host_response(request, route.redirect_to)
        # set_tenant only records the schema; the backend sends one SET search_path before
        # the first query (TENANT_LIMIT_SET_CALLS), or SET LOCAL behind a pooler.
        connection.set_tenant(tenant)
        if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
        return self.get_response(request)


def unknown_host_response(request: HttpRequest) -> HttpResponse:
    html = render_to_string("errors/unknown_host.html", {})
    return HttpResponse(html, status=404)


def suspended_response(request: HttpRequest) -> HttpResponse:
    html = render_to_string("tenants/suspended.html", {"tenant_name": request.tenant.name})
    response = HttpResponse(html, status=SUSPENDED_STATUS)
    response["Cache-Control"] = "no-store"
    return response


def moved_host_response(request: HttpRequest, host: str) -> HttpResponse:
    """The same path on the tenant's primary host: 302 for reads, 307 (method kept) otherwise.

    Temporary on purpose: after the grace period the old subdomain may belong to someone else.
    """
    # The port the browser used, as its Host header says (none behind a proxy on 80/443).
    _name, sep, port = request.get_host().rpartition(":")
    port_part = f":{port}" if sep and port.isdigit() else ""
    response = HttpResponseRedirect(f"{request.scheme}://{host}{port_part}{request.get_full_path()}")
    if request.method not in ("GET", "HEAD"):
        response.status_code = 307
    response["Cache-Control"] = "no-store"
    return response
