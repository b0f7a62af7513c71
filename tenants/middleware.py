"""Host -> tenant routing."""

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware


class TenantMiddleware(TenantMainMiddleware):
    """django-tenants' routing with a plain 404 page for unknown or invalid hosts.

    An unknown subdomain must never fall through to the public site or another tenant.
    """

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        response = super().process_request(request)
        if response is not None and response.status_code == 404:
            return unknown_host_response(request)
        return response

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        return unknown_host_response(request)


def unknown_host_response(request: HttpRequest) -> HttpResponse:
    html = render_to_string("errors/unknown_host.html", {})
    return HttpResponse(html, status=404)
