"""Login throttling against password guessing.

Failed sign-ins are recorded from Django's `user_login_failed` signal, so every form
or API that calls `authenticate(request, ...)` counts. Two limits, within a sliding
window of LOGIN_THROTTLE_WINDOW_S:

- LOGIN_THROTTLE_FAILURES per (tenant, email, client IP): guessing one person's password;
- LOGIN_THROTTLE_IP_FAILURES per client IP, across tenants and emails: password spraying.

While a limit is reached, `LoginThrottleMiddleware` answers POSTs to the login views
with 429 and Retry-After, and `ThrottledModelBackend` refuses every other
`authenticate()` call (API token endpoints) without checking the password. A
successful sign-in clears that person's failures from that IP. Counts live in the
public schema, so they hold across gunicorn workers; the tenant is part of the key,
so guessing on acme never locks anyone out of globex. A tenant's database role cannot
reach that table, so the queries run on the public schema (`core.tenancy.public_schema`).
"""

import ipaddress
import math
import random
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core.errors import error_response
from core.tenancy import current_schema_name, public_schema

from .models import LoginFailure

if TYPE_CHECKING:
    from accounts.models import User

DEFAULT_FAILURES = 5
DEFAULT_IP_FAILURES = 50
DEFAULT_WINDOW_S = 900
DEFAULT_VIEWS = ("accounts:login", "admin:login")
_EMAIL_FIELDS = ("username", "email")
_THROTTLED_ATTR = "_login_throttled"
# Set once the middleware has found a sign-in POST's caller not throttled, so the
# authentication backend does not run the same two queries again for that request.
_CHECKED_EMAIL_ATTR = "_login_throttle_checked_email"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind TRUSTED_PROXY_COUNT proxies, the address the
    outermost trusted proxy saw, taken from the right of X-Forwarded-For (the left
    is whatever the client chose to send)."""
    proxies = int(_setting("TRUSTED_PROXY_COUNT", 0))
    candidate = request.META.get("REMOTE_ADDR", "")
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return "unknown"


def _scope(request: HttpRequest) -> str:
    tenant = getattr(request, "tenant", None)
    return getattr(tenant, "schema_name", None) or current_schema_name()


def _normalise_email(value: Any) -> str:
    # Whatever was typed is only a key: drop what PostgreSQL text cannot hold (NUL, lone surrogates).
    text = str(value or "").replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text.strip().lower()[:254]


def _submitted_email(data: Any) -> str:
    """The email from login credentials or a login form's POST (Django names the field `username`)."""
    return _normalise_email(next((data.get(f) for f in _EMAIL_FIELDS if data.get(f)), ""))


def login_throttle_retry_after(*, scope: str, email: str, ip: str) -> int:
    """Seconds until this (tenant, email, IP) may try again; 0 when allowed."""
    window = timedelta(seconds=int(_setting("LOGIN_THROTTLE_WINDOW_S", DEFAULT_WINDOW_S)))
    now = timezone.now()
    cutoff = now - window
    per_person = int(_setting("LOGIN_THROTTLE_FAILURES", DEFAULT_FAILURES))
    per_ip = int(_setting("LOGIN_THROTTLE_IP_FAILURES", DEFAULT_IP_FAILURES))
    waits = [0.0]
    for filters, limit in (({"scope": scope, "email": email, "ip": ip}, per_person), ({"ip": ip}, per_ip)):
        with public_schema():
            recent = list(
                LoginFailure.objects.filter(failed_at__gte=cutoff, **filters)
                .order_by("-failed_at")
                .values_list("failed_at", flat=True)[:limit]
            )
        if len(recent) >= limit:
            # Locked until the limit-th most recent failure leaves the window.
            waits.append((recent[limit - 1] + window - now).total_seconds())
    return max(0, math.ceil(max(waits)))


def login_failure_record(*, scope: str, email: str, ip: str) -> None:
    with public_schema():
        LoginFailure.objects.create(scope=scope, email=email, ip=ip, failed_at=timezone.now())
        if random.random() < 0.01:  # occasional cleanup keeps the table small without a cron job
            window = int(_setting("LOGIN_THROTTLE_WINDOW_S", DEFAULT_WINDOW_S))
            LoginFailure.objects.filter(failed_at__lt=timezone.now() - timedelta(seconds=window)).delete()


def login_failures_clear(*, scope: str, email: str, ip: str) -> None:
    with public_schema():
        LoginFailure.objects.filter(scope=scope, email=email, ip=ip).delete()


def _retry_after_for(request: HttpRequest, email: str) -> int:
    return login_throttle_retry_after(scope=_scope(request), email=email, ip=client_ip(request))


@receiver(user_login_failed, dispatch_uid="accounts.throttle.services.failed")
def _on_login_failed(
    sender: object, credentials: dict, request: HttpRequest | None = None, **kwargs: object
) -> None:
    if request is None or getattr(request, _THROTTLED_ATTR, False):
        return
    email = _submitted_email(credentials)
    login_failure_record(scope=_scope(request), email=email, ip=client_ip(request))


@receiver(user_logged_in, dispatch_uid="accounts.throttle.services.succeeded")
def _on_logged_in(sender: object, request: HttpRequest | None, user: object, **kwargs: object) -> None:
    if request is None:
        return
    email = _normalise_email(getattr(user, "email", ""))
    login_failures_clear(scope=_scope(request), email=email, ip=client_ip(request))


class ThrottledModelBackend(ModelBackend):
    """ModelBackend that refuses, without checking the password, while the caller is throttled."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> "User | None":
        if request is not None:
            email = _normalise_email(username or kwargs.get("email"))
            already_checked = getattr(request, _CHECKED_EMAIL_ATTR, None) == email
            if not already_checked and _retry_after_for(request, email) > 0:
                setattr(request, _THROTTLED_ATTR, True)
                raise PermissionDenied("Too many failed sign-in attempts.")
        return super().authenticate(request, username=username, password=password, **kwargs)


def throttled_response(request: HttpRequest, retry_after_s: int) -> HttpResponse:
    response = error_response(request, 429, retry_after_minutes=max(1, math.ceil(retry_after_s / 60)))
    response["Retry-After"] = str(retry_after_s)
    return response


class LoginThrottleMiddleware:
    """Answers a sign-in POST with 429 and a clear message while its caller is throttled."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple,
        view_kwargs: dict,
    ) -> HttpResponse | None:
        if request.method != "POST":
            return None
        match = request.resolver_match
        if match is None or match.view_name not in _setting("LOGIN_THROTTLE_VIEWS", DEFAULT_VIEWS):
            return None
        email = _submitted_email(request.POST)
        retry_after = _retry_after_for(request, email)
        if retry_after > 0:
            return throttled_response(request, retry_after)
        setattr(request, _CHECKED_EMAIL_ATTR, email)
        return None
