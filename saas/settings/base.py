"""Settings shared by every environment. Everything configurable comes from the
environment (saas/settings/environment.py); each concern has its own module:

- databases.py: the tenant and stats databases, the pooler backend, routers;
- tenancy.py: django-tenants, host routing, shared and tenant apps, caches;
- stats.py: the usage-stats collector;
- security.py: hosts, cookies, passwords, sign-in throttling, metrics access;
- logging.py: log format and context;
- jobs.py: Celery, Redis and the beat schedule;
- mail.py: SMTP (EMAIL_URL), mail links' lifetimes, sign-up and account-mail throttles.

dev.py and test.py also read the embedded services' .data/db.env, redis.env and mail.env;
production.py never does.
"""

from .databases import *  # noqa: F403
from .environment import BASE_DIR, env
from .jobs import *  # noqa: F403
from .logging import *  # noqa: F403
from .mail import *  # noqa: F403
from .security import *  # noqa: F403
from .stats import *  # noqa: F403
from .tenancy import *  # noqa: F403

DEBUG = env.bool("DEBUG", default=False)
PORT = env.int("PORT", default=8000)

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
