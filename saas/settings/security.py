"""Security: hosts, cookies, passwords, sign-in throttling, metrics access."""

from .environment import env

SECRET_KEY = env.str("SECRET_KEY", default="")

# Hosts are checked by tenants.middleware.TenantMiddleware, the first middleware that
# reads the host: only a host registered as a tenants.Domain (BASE_DOMAIN, <slug>.BASE_DOMAIN
# and custom domains, served from the routing cache) gets past it; any other host, or a
# malformed one, gets the plain 404. A static list could not hold custom domains.
ALLOWED_HOSTS = ["*"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Cookies are host-only (no SESSION_COOKIE_DOMAIN): acme's cookie is never sent to globex.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"

# Login throttling (accounts/throttle/services.py): failures per (tenant, email, IP) and
# per IP in a window.
AUTHENTICATION_BACKENDS = ["accounts.throttle.services.ThrottledModelBackend"]
LOGIN_THROTTLE_FAILURES = env.int("LOGIN_THROTTLE_FAILURES", default=5)
LOGIN_THROTTLE_IP_FAILURES = env.int("LOGIN_THROTTLE_IP_FAILURES", default=50)
LOGIN_THROTTLE_WINDOW_S = env.int("LOGIN_THROTTLE_WINDOW_S", default=900)
# Proxies in front of gunicorn that append to X-Forwarded-For; 0 trusts none of it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# /metrics on the base domain: staff session, or `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
