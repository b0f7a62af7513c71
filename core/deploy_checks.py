"""`manage.py check --deploy` checks for the tenant-isolation settings Django does not know about,
and for a proxy set-up that would make every client share one address."""

from django.conf import settings
from django.core import checks

TENANT_AWARE_KEY_FUNCTIONS = frozenset({"django_tenants.cache.make_key"})


@checks.register(checks.Tags.security, deploy=True)
def tenant_isolation_settings_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for name in ("SESSION_COOKIE_DOMAIN", "CSRF_COOKIE_DOMAIN"):
        if getattr(settings, name, None):
            errors.append(
                checks.Error(
                    f"{name} is set: one tenant's cookie would be sent to every other tenant's host.",
                    hint=f"Leave {name} = None so cookies stay host-only.",
                    id="core.E001",
                )
            )
    if getattr(settings, "USE_X_FORWARDED_HOST", False):
        errors.append(
            checks.Error(
                "USE_X_FORWARDED_HOST is on: a client-sent X-Forwarded-Host could choose the tenant.",
                hint="Make the proxy pass the original Host header instead.",
                id="core.E002",
            )
        )
    # The routing table's cache (TENANT_CACHE_URL) is read before any tenant is chosen and
    # holds hosts only: its keys are plain on purpose (saas/settings/tenancy.py).
    routing_alias = getattr(settings, "TENANT_CACHE_ALIAS", None)
    for alias, cache in settings.CACHES.items():
        if alias == routing_alias:
            continue
        if cache.get("KEY_FUNCTION") not in TENANT_AWARE_KEY_FUNCTIONS:
            errors.append(
                checks.Error(
                    f"Cache {alias!r} keys do not include the tenant's schema.",
                    hint='Set "KEY_FUNCTION": "django_tenants.cache.make_key".',
                    id="core.E003",
                )
            )
    if (
        getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        and int(getattr(settings, "TRUSTED_PROXY_COUNT", 0)) < 1
    ):
        errors.append(
            checks.Warning(
                "SECURE_PROXY_SSL_HEADER says a proxy is in front, but TRUSTED_PROXY_COUNT is 0: every "
                "client then has the proxy's address, and the per-IP sign-in limit "
                "(LOGIN_THROTTLE_IP_FAILURES) would lock everybody out of every tenant at once.",
                hint="Set TRUSTED_PROXY_COUNT to the proxies that append to X-Forwarded-For (usually 1).",
                id="core.W001",
            )
        )
    return errors
