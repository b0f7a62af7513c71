"""The accounts side of a sign-up on the base domain (tenants/views.py calls these):

- `signup_throttle`: sign-ups are throttled per client IP (SIGNUP_THROTTLE_PER_IP; the IP
  as for sign-in throttling, TRUSTED_PROXY_COUNT) and per owner email
  (SIGNUP_THROTTLE_PER_EMAIL) within SIGNUP_THROTTLE_WINDOW_S: 429 with Retry-After.
- `signup_complete`: mails the new owner a verification link and sends them, signed in, to
  their subdomain through a one-time hand-off: a token signed for that host and schema, valid
  for SIGNUP_HANDOFF_MAX_AGE_S seconds, whose nonce is recorded in the public schema when it
  is used (accounts.platform.HandoffUse), so a replay is refused by every process. The
  session is created on the new host, in its schema: no session or cookie crosses hosts.
"""

import random
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import split_domain_port
from django.utils import timezone
from django_tenants.utils import schema_context

from core.tenancy import current_schema_name

from .models import User
from .platform.models import HandoffUse
from .throttle.rates import rate_limits_hit, request_limits, too_many_requests
from .verification import email_verification_send

_SALT = "taskhive.accounts.signup-handoff"
HANDOFF_PATH = "/accounts/welcome/"
INVALID_HANDOFF = "This sign-in link has expired or was already used. Sign in with your email and password."


def signup_throttle(request: HttpRequest, *, email: str) -> HttpResponse | None:
    """None when this sign-up may go ahead (and counts it), else the 429 response."""
    limits = request_limits(
        request,
        name="signup",
        email=email,
        per_ip=settings.SIGNUP_THROTTLE_PER_IP,
        per_email=settings.SIGNUP_THROTTLE_PER_EMAIL,
    )
    wait_s = rate_limits_hit(limits=limits, window_s=settings.SIGNUP_THROTTLE_WINDOW_S)
    return too_many_requests(request, wait_s, what="sign-ups") if wait_s else None


def origin(request: HttpRequest, host: str) -> str:
    """scheme://host[:port] for `host`, with the scheme and port this request came in on."""
    port = request.get_port()
    port_part = "" if port in ("80", "443") else f":{port}"
    return f"{request.scheme}://{host}{port_part}"


def signup_complete(request: HttpRequest, *, schema_name: str, host: str, owner_email: str) -> HttpResponse:
    base_url = origin(request, host)
    with schema_context(schema_name):
        owner = User.objects.get(email=owner_email)
        email_verification_send(user=owner, base_url=base_url)
        token = signing.dumps(
            {"h": host, "s": schema_name, "u": owner.pk, "n": secrets.token_hex(16)}, salt=_SALT
        )
    return HttpResponseRedirect(f"{base_url}{HANDOFF_PATH}?{urlencode({'t': token})}")


def signup_handoff_consume(request: HttpRequest, *, token: str) -> User:
    """The new owner a hand-off token names, once. Raises ValidationError when it is forged,
    older than SIGNUP_HANDOFF_MAX_AGE_S, for another host or schema, or already used."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.SIGNUP_HANDOFF_MAX_AGE_S)
    except signing.BadSignature:
        raise ValidationError(INVALID_HANDOFF, code="invalid") from None
    host, _port = split_domain_port(request.get_host())
    if (
        not isinstance(data, dict)
        or data.get("h") != host.lower().rstrip(".")
        or data.get("s") != current_schema_name()
    ):
        raise ValidationError(INVALID_HANDOFF, code="wrong_host")
    now = timezone.now()
    try:
        with transaction.atomic():
            HandoffUse.objects.create(nonce=str(data.get("n"))[:64], used_at=now)
    except IntegrityError:
        raise ValidationError(INVALID_HANDOFF, code="replayed") from None
    if random.random() < 0.05:  # a token past its max age is refused by its signature anyway
        HandoffUse.objects.filter(used_at__lt=now - timedelta(days=1)).delete()
    user = User.objects.filter(pk=int(data.get("u") or 0), is_active=True).first()
    if user is None:
        raise ValidationError(INVALID_HANDOFF, code="invalid")
    return user
