"""Settings for pytest: the real PostgreSQL, fast password hashing."""

from .environment import embedded_env_read

embedded_env_read()

from .base import *  # noqa: E402, F403
from .environment import env  # noqa: E402

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="test-only-insecure-key-0123456789-abcdefghijklmnopqrstuvwxyz")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Every test client and live server is 127.0.0.1: a per-IP lock would couple unrelated
# tests. The per-person limit stays; tests/security/test_throttle.py covers the IP limit.
LOGIN_THROTTLE_IP_FAILURES = 1_000_000
# Deleted organisations may be purged at once (tests/tenants/test_grace.py).
TENANT_DELETION_GRACE_DAYS = env.float("TENANT_DELETION_GRACE_DAYS", default=0.0)
# Tests name schemas after slugs (a sign-up copies the template); tests/tenants/test_spares.py
# turns the spare schemas on.
TENANT_SPARE_SCHEMAS = env.int("TENANT_SPARE_SCHEMAS", default=0)
# The same for the per-IP limits of sign-ups and account mails; tests/accounts/test_signup.py
# and test_password_reset.py set them low to test them.
SIGNUP_THROTTLE_PER_IP = 1_000_000
ACCOUNT_MAIL_THROTTLE_PER_IP = 1_000_000
# Keep `request.tenant`-dependent static lookups simple in tests.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
