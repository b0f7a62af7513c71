from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    """The current tenant (None on the public site) and the base domain, for every template."""
    tenant = getattr(request, "tenant", None)
    is_public = tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME
    return {
        "current_tenant": None if is_public else tenant,
        "base_domain": settings.BASE_DOMAIN,
        "site_port": settings.PORT,
    }
