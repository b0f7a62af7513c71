"""bench/tenants.py: the same app routed by stock django-tenants (a Domain query per request,
TENANT_LIMIT_SET_CALLS at its default, off)."""

from saas.settings.dev import *  # noqa: F403
from saas.settings.dev import MIDDLEWARE

MIDDLEWARE = [
    "django_tenants.middleware.main.TenantMainMiddleware" if m == "tenants.middleware.TenantMiddleware" else m
    for m in MIDDLEWARE
]
TENANT_LIMIT_SET_CALLS = False
