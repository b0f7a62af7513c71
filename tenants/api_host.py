"""The shared API host: `api.<BASE_DOMAIN>` serves every organisation's API, the tenant
named by the `X-Tenant-ID: <subdomain>` header instead of the host.

It is the common pattern for clients that serve many organisations (one base URL, one
TLS name). The header only chooses the schema; authentication is unchanged and happens in
that schema, so a token of another organisation is simply unknown there (401), exactly as
on that organisation's own host. Only API tokens authenticate here: the session cookie of
a subdomain is never sent to this host, and a cookie set for it names no tenant.

- no header (or an empty one): 400 "Tenant ID missing";
- a header that names no organisation: 404; a suspended one: 423;
- any path outside /api/: 404. Every answer is JSON.

`api` is a reserved slug (settings.RESERVED_SLUGS), so no organisation can own the host.
"""

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse

from core.errors import API_PREFIX, api_error_response

from .routing import route_cache
from .services.provisioning import SLUG_MAX_LEN, SLUG_RE, tenant_host

API_HOST_LABEL = "api"
TENANT_HEADER = "X-Tenant-ID"
TENANT_MISSING = "Tenant ID missing: send the organisation's subdomain as the X-Tenant-ID header."
TENANT_UNKNOWN = "No organisation has this tenant ID."
NOT_API = "Not found. This host serves the API only, under /api/v1/."
SUSPENDED = "This organisation is suspended."


def api_host_name() -> str:
    return f"{API_HOST_LABEL}.{settings.BASE_DOMAIN}"


def api_host_dispatch(
    request: HttpRequest, host: str, get_response: Callable[[HttpRequest], HttpResponse]
) -> HttpResponse:
    """Route a request to the shared API host by its X-Tenant-ID header."""
    if not request.path.startswith(API_PREFIX):
        return api_error_response(request, 404, NOT_API)
    slug = request.headers.get(TENANT_HEADER, "").strip().lower()
    if not slug:
        return api_error_response(request, 400, TENANT_MISSING)
    route = None
    if len(slug) <= SLUG_MAX_LEN and SLUG_RE.match(slug):
        route = route_cache.lookup(tenant_host(slug))
    if route is None:
        return api_error_response(request, 404, TENANT_UNKNOWN)
    tenant = route.tenant()
    if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME or tenant.slug != slug:
        return api_error_response(request, 404, TENANT_UNKNOWN)
    tenant.domain_url = host
    request.tenant = tenant
    request.api_host_tenant = True
    if route.is_suspended:
        return api_error_response(request, 423, SUSPENDED)
    connection.set_tenant(tenant)
    request.urlconf = settings.API_HOST_URLCONF
    return get_response(request)
