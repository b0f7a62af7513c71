"""Tenancy (docs/tenancy.md): django-tenants, host routing, the apps of each schema."""

import os

from .environment import env

BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost").strip().lower().rstrip(".")

TENANT_MODEL = "tenants.Client"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# Read by django-tenants' own backend only (the benchmarks' stock set-up): ours states the
# role and search_path in every transaction instead (core/db/backends/tenant_pooled).
TENANT_LIMIT_SET_CALLS = True
# New tenants are copies of this migrated schema (tenants/template.py); no tenant can be named
# so, since slugs have no underscores.
TENANT_TEMPLATE_SCHEMA = "tenant_template"
# Host -> tenant routing table kept in each process (tenants/routing.py). Each process checks
# the routing version at most every TENANT_ROUTES_CHECK_S (and before answering an unknown
# host 404, rate-limited), so a change made in any process is enforced everywhere within 1 s
# with the default; in the same process at once. The whole table is also reloaded when older
# than TENANT_CACHE_TTL_S, a backstop.
TENANT_ROUTES_CHECK_S = env.float("TENANT_ROUTES_CHECK_S", default=0.7)
TENANT_CACHE_TTL_S = env.float("TENANT_CACHE_TTL_S", default=60.0)
# A deleted organisation is purged (schema dropped, usage data deleted) this many days after
# its deletion; staff can restore it until then. Old hosts kept after a change of subdomain
# redirect for as long. The tests use 0.
TENANT_DELETION_GRACE_DAYS = env.float("TENANT_DELETION_GRACE_DAYS", default=30.0)
# Tenant schemas kept copied ahead of sign-ups (tenants/services/spares.py): a sign-up takes
# one instead of copying the template, and a job makes the next one. 0 copies on sign-up.
TENANT_SPARE_SCHEMAS = env.int("TENANT_SPARE_SCHEMAS", default=2)
# Optional shared copy of the routing table (e.g. redis://host:6379/1), so refreshes come
# from the cache and not from the database; empty keeps it in process memory only.
TENANT_CACHE_URL = env.str("TENANT_CACHE_URL", default="")
TENANT_CACHE_ALIAS = "tenant_routes" if TENANT_CACHE_URL else None
# migrate_schemas runs tenant schemas in this many processes (default: one per CPU).
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.int("MIGRATION_WORKERS", default=os.cpu_count() or 1)
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "saas.urls_public"
ROOT_URLCONF = "saas.urls_tenants"
# The shared API host api.<BASE_DOMAIN>, tenant chosen by X-Tenant-ID (tenants/api_host.py).
API_HOST_URLCONF = "saas.urls_api"
# Slugs that can never be a tenant: they are hosts or paths people expect to be ours.
RESERVED_SLUGS = frozenset(
    {
        "www", "admin", "api", "static", "media", "public", "app", "mail", "smtp", "ftp",
        "ns1", "ns2", "help", "support", "status", "docs", "blog", "billing", "login",
        "signup", "account", "accounts", "dashboard", "stats", "metrics", "healthz",
        "test", "staging", "dev", "internal", "template", "root", "system", "information_schema",
        # Infrastructure names: mail clients, certificates and people expect these to be ours.
        "autodiscover", "autoconfig", "webmail", "imap", "pop", "pop3", "mx", "email", "cdn",
        "assets", "sso", "auth", "oauth", "id", "identity", "portal", "console", "ns", "dns",
        "vpn", "git", "status-page", "statuspage", "security", "abuse", "postmaster",
        "hostmaster", "webmaster", "noreply", "no-reply", "taskhive", "signin", "logout",
        "register", "invite", "verify", "reset", "password", "billing-portal", "payments",
        "pay", "shop", "store", "beta", "preview", "demo", "sandbox", "prod", "production",
        "stage", "qa", "uat", "localhost", "mta-sts", "wpad", "isatap", "lyncdiscover", "sip",
    }
)  # fmt: skip

# Apps of the public schema. `tenants` comes before django_tenants so its `migrate` and
# `migrate_schemas` win (tenants/checks.py fails the start-up otherwise).
SHARED_APPS = [
    "core",
    "audit",
    "tenants",
    "django_tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    # Serves the API docs' Swagger UI from local static files (no CDN).
    "ninja",
    "accounts",
    "accounts.throttle",
    "accounts.platform",
    "usage_stats",
]
# Auth and sessions live at the same level (django-tenants' security note): a
# session can only ever name a user of the schema it is stored in.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "accounts",
    "tasks_app",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

# Cache keys start with the current schema (django-tenants' make_key), so the same
# key or the same template fragment cached on acme is never served on globex.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
if TENANT_CACHE_URL:
    # Plain keys: the routing table is read before any tenant is selected.
    CACHES[TENANT_CACHE_ALIAS] = env.cache_url_config(TENANT_CACHE_URL)
