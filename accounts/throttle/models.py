"""Platform-level tables in the public schema (the `login_throttle` app is shared-only)."""

from django.db import models


class LoginFailure(models.Model):
    """One failed sign-in, for throttling (see `accounts.throttle.services`).

    Kept in the public schema so every gunicorn worker and every tenant's requests see
    the same counts; `scope` is the tenant's schema name, so acme's failures never
    lock anyone out of globex.
    """

    scope = models.CharField(max_length=63)
    email = models.CharField(max_length=254)
    ip = models.CharField(max_length=45)
    failed_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["scope", "email", "ip", "failed_at"], name="loginfailure_key_idx"),
            models.Index(fields=["ip", "failed_at"], name="loginfailure_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.email}@{self.ip}"


class RateEvent(models.Model):
    """One counted request for a rate limit (accounts/throttle/rates.py): a sign-up, a
    password-reset or find-my-organisation request. `bucket` names the limit and what the
    key is (e.g. "signup:ip"); `key` is the IP or the address (a digest for addresses)."""

    bucket = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["bucket", "key", "at"], name="rateevent_key_idx")]

    def __str__(self) -> str:
        return f"{self.bucket}:{self.key}"
