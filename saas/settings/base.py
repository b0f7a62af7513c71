"""Settings shared by every environment. Everything configurable comes from the environment."""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# `make run`/`make test` start an embedded cluster and write its URLs here, so
# manage.py works by hand afterwards. Real environment variables always win.
_EMBEDDED_ENV = BASE_DIR / ".data" / "db.env"
if _EMBEDDED_ENV.exists():
    env.read_env(str(_EMBEDDED_ENV), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")

BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost").strip().lower().rstrip(".")
PORT = env.int("PORT", default=8000)
# Hosts are checked by tenants.middleware.TenantMiddleware, the first middleware that
# reads the host: only a host registered as a tenants.Domain (BASE_DOMAIN, <slug>.BASE_DOMAIN
# and custom domains, served from the routing cache) gets past it; any other host, or a
# malformed one, gets the plain 404. A static list could not hold custom domains.
ALLOWED_HOSTS = ["*"]

# Database aliases are named constants so code never spells them twice.
DEFAULT_DB_ALIAS = "default"
STATS_DB_ALIAS = "stats"

DATABASES = {
    DEFAULT_DB_ALIAS: env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/saas"),
}
DATABASES[DEFAULT_DB_ALIAS]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES[DEFAULT_DB_ALIAS]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES[DEFAULT_DB_ALIAS]["CONN_HEALTH_CHECKS"] = True
DATABASES[DEFAULT_DB_ALIAS].setdefault("OPTIONS", {})["connect_timeout"] = 5


def _default_stats_url() -> str:
    """The stats DB defaults to `saas_stats` on the same cluster as the main DB."""
    main = DATABASES[DEFAULT_DB_ALIAS]
    user = main.get("USER") or ""
    password = main.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = main.get("HOST") or ""
    port = f":{main['PORT']}" if main.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{main['NAME']}_stats"


DATABASES[STATS_DB_ALIAS] = env.db("STATS_DATABASE_URL", default=_default_stats_url())
DATABASES[STATS_DB_ALIAS]["ENGINE"] = "django.db.backends.postgresql"
DATABASES[STATS_DB_ALIAS]["CONN_HEALTH_CHECKS"] = True
DATABASES[STATS_DB_ALIAS].setdefault("OPTIONS", {})["connect_timeout"] = 5
# A test run can name its throwaway databases, so several runs can share a cluster.
_test_db = env.str("TEST_DB_NAME", default="")
if _test_db:
    DATABASES[DEFAULT_DB_ALIAS]["TEST"] = {"NAME": _test_db}
    DATABASES[STATS_DB_ALIAS]["TEST"] = {"NAME": f"{_test_db}_stats"}

# Behind PgBouncer in transaction mode a session-level `SET search_path` leaks between
# clients: this backend states it with SET LOCAL in every transaction (docs/scale-out.md).
DB_POOLER = env.str("DB_POOLER", default="").strip().lower()
if DB_POOLER == "pgbouncer-transaction":
    DATABASES[DEFAULT_DB_ALIAS]["ENGINE"] = "core.db.backends.tenant_pooled"
    DATABASES[DEFAULT_DB_ALIAS]["ATOMIC_REQUESTS"] = True
    for _alias in (DEFAULT_DB_ALIAS, STATS_DB_ALIAS):
        DATABASES[_alias]["DISABLE_SERVER_SIDE_CURSORS"] = True
elif DB_POOLER:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"DB_POOLER must be empty or 'pgbouncer-transaction', not {DB_POOLER!r}.")
# Public-schema models that tenant models may reference, because they would become Citus
# reference tables (core/checks.py, docs/scale-out.md). Labels like "tenants.Plan".
CITUS_REFERENCE_TABLES: list[str] = []

DATABASE_ROUTERS = [
    "saas.db_routers.StatsRouter",
    "django_tenants.routers.TenantSyncRouter",
]

# --- Usage stats pipeline (usage_stats/ingest/) -----------------------------------
USAGE_STATS_ENABLED = env.bool("USAGE_STATS_ENABLED", default=True)
USAGE_STATS_BATCH_SIZE = env.int("USAGE_STATS_BATCH_SIZE", default=5000)
USAGE_STATS_FLUSH_INTERVAL_S = env.float("USAGE_STATS_FLUSH_INTERVAL_S", default=1.0)
USAGE_STATS_QUEUE_MAX = env.int("USAGE_STATS_QUEUE_MAX", default=200_000)
USAGE_STATS_PARTITION_MONTHS_AHEAD = env.int("USAGE_STATS_PARTITION_MONTHS_AHEAD", default=3)

# --- Tenancy -----------------------------------------------------------------
TENANT_MODEL = "tenants.Client"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# One `SET search_path` per request (after set_tenant), not one per cursor; django-tenants
# forgets the cached path on rollback and savepoint rollback (tests/tenants/test_routing_cache.py).
TENANT_LIMIT_SET_CALLS = True
# New tenants are copies of this migrated schema (tenants/template.py); no tenant can be named
# so, since slugs have no underscores.
TENANT_TEMPLATE_SCHEMA = "tenant_template"
# Host -> tenant routing table kept in each process (tenants/routing.py). A change made in
# another process is seen within TENANT_CACHE_TTL_S; in the same process at once.
TENANT_CACHE_TTL_S = env.float("TENANT_CACHE_TTL_S", default=5.0)
# Optional shared copy of the routing table (e.g. redis://host:6379/1), so refreshes come
# from the cache and not from the database; empty keeps it in process memory only.
TENANT_CACHE_URL = env.str("TENANT_CACHE_URL", default="")
TENANT_CACHE_ALIAS = "tenant_routes" if TENANT_CACHE_URL else None
# migrate_schemas runs tenant schemas in this many processes (default: one per CPU).
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.int("MIGRATION_WORKERS", default=os.cpu_count() or 1)
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "saas.urls_public"
ROOT_URLCONF = "saas.urls_tenants"
# Slugs that can never be a tenant: they are hosts or paths people expect to be ours.
RESERVED_SLUGS = frozenset(
    {
        "www", "admin", "api", "static", "media", "public", "app", "mail", "smtp", "ftp",
        "ns1", "ns2", "help", "support", "status", "docs", "blog", "billing", "login",
        "signup", "account", "accounts", "dashboard", "stats", "metrics", "healthz",
        "test", "staging", "dev", "internal", "template", "root", "system", "information_schema",
    }
)  # fmt: skip

# The stats database is migrated by `migrate_stats` (usage_stats); `migrate` and
# `migrate_schemas` are the tenants app's (tenants/checks.py keeps it listed first).
SHARED_APPS = [
    "core",
    # Before django_tenants, so tenants' migrate_schemas (skips up-to-date schemas) wins.
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

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"

MIDDLEWARE = [
    # Request ID, log context and metrics for every request; /healthz on any host.
    "core.middleware.RequestContextMiddleware",
    "core.middleware.HealthCheckMiddleware",
    "tenants.middleware.TenantMiddleware",
    # One `request` usage event per request of a known host, 404s and 403s included.
    "usage_stats.ingest.middleware.UsageStatsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.throttle.services.LoginThrottleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "saas.wsgi.application"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve straight from app and project static folders when collectstatic has not run (dev, tests).
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cookies are host-only (no SESSION_COOKIE_DOMAIN): acme's cookie is never sent to globex.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"

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

# Login throttling (accounts/throttle/services.py): failures per (tenant, email, IP) and per IP in a window.
AUTHENTICATION_BACKENDS = ["accounts.throttle.services.ThrottledModelBackend"]
LOGIN_THROTTLE_FAILURES = env.int("LOGIN_THROTTLE_FAILURES", default=5)
LOGIN_THROTTLE_IP_FAILURES = env.int("LOGIN_THROTTLE_IP_FAILURES", default=50)
LOGIN_THROTTLE_WINDOW_S = env.int("LOGIN_THROTTLE_WINDOW_S", default=900)
# Proxies in front of gunicorn that append to X-Forwarded-For; 0 trusts none of it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# /metrics on the base domain: staff session, or `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every record carries the request ID and tenant (core/logging.py); production logs JSON.
    "filters": {"request_context": {"()": "core.logging.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s %(tenant)s] %(name)s %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_context"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
