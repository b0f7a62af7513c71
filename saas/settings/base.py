"""Settings shared by every environment. Everything configurable comes from the environment."""

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
# Tenants live on subdomains of BASE_DOMAIN; extra hosts (custom domains, a
# load balancer's health-check host) can be added explicitly.
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}", *env.list("EXTRA_ALLOWED_HOSTS", default=[])]

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

DATABASE_ROUTERS = [
    "saas.db_routers.StatsRouter",
    "django_tenants.routers.TenantSyncRouter",
]

# --- Tenancy -----------------------------------------------------------------
TENANT_MODEL = "tenants.Client"
TENANT_DOMAIN_MODEL = "tenants.Domain"
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

# `migrate` is dispatched by saas: the stats alias goes to Django's migrate,
# everything else to django-tenants' migrate_schemas. saas must come first.
SHARED_APPS = [
    "saas",
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "accounts",
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
    "tenants.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
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
                "saas.context_processors.site",
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
