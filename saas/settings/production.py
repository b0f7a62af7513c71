"""Production: secrets have no default and the process refuses to start without them."""

import copy

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .environment import env
from .logging import LOGGING

# No embedded defaults here: the database and the job broker must be named.
if not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set in production (docs/operations.md).")
if not (env.str("REDIS_URL", default="") or env.str("CELERY_BROKER_URL", default="")):
    raise ImproperlyConfigured("REDIS_URL (the job broker) must be set in production (docs/jobs.md).")
if not env.str("EMAIL_URL", default=""):
    raise ImproperlyConfigured(
        "EMAIL_URL (SMTP for password resets and invitations) must be set in production (docs/accounts.md)."
    )

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(("dev-only", "test-only", "change-me")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production."
    )

# TLS terminates at the proxy in front of gunicorn.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz is answered before this redirect (core.middleware), so plain-HTTP probes work.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# The preload flag only states consent; submitting the domain to browsers' list is a
# separate, deliberate step. Turning it off is an explicit choice, so its warning is silenced.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD or not SECURE_HSTS_SECONDS else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# The Host header is what the proxy received; X-Forwarded-Host is client-controlled
# unless the proxy overwrites it, so it never chooses the tenant (core/deploy_checks.py).
USE_X_FORWARDED_HOST = False
# Cookies stay host-only: acme's session cookie is never sent to globex
# (README, "Security and operations"); core/deploy_checks.py refuses a cookie domain.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None

# One JSON object per line with request_id and tenant (core/logging.py).
LOGGING = copy.deepcopy(LOGGING)
LOGGING["handlers"]["console"]["formatter"] = env.str("LOG_FORMAT", default="json")
