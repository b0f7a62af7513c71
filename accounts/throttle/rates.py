"""Rate limits on requests that cost something: sign-ups (a schema each), password-reset and
find-my-organisation requests (a mail each).

Each limit counts requests per key (the client IP, as for sign-in throttling: `client_ip`
honours TRUSTED_PROXY_COUNT; or an address, stored as a digest) in a sliding window, in the
public schema, so every gunicorn worker sees the same counts. A refused request is not
counted, so waiting the Retry-After time always works.
"""

import math
import random
from dataclasses import dataclass
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.errors import error_response

from .models import RateEvent
from .services import client_ip


@dataclass(frozen=True)
class RateLimit:
    bucket: str  # what is counted and by what, e.g. "signup:ip"
    key: str
    limit: int


def rate_key_for_email(email: str) -> str:
    return salted_hmac("taskhive.rate", (email or "").strip().lower(), algorithm="sha256").hexdigest()


def rate_limits_hit(*, limits: list[RateLimit], window_s: int) -> int:
    """Count one request against every limit. Returns 0 when all allow it (and records it),
    else the seconds until the strictest one would (and records nothing)."""
    now = timezone.now()
    window = timedelta(seconds=window_s)
    waits = [0.0]
    for rate in limits:
        recent = list(
            RateEvent.objects.filter(bucket=rate.bucket, key=rate.key, at__gte=now - window)
            .order_by("-at")
            .values_list("at", flat=True)[: rate.limit]
        )
        if len(recent) >= rate.limit:
            waits.append((recent[rate.limit - 1] + window - now).total_seconds())
    wait_s = max(waits)
    if wait_s > 0:
        return max(1, math.ceil(wait_s))
    RateEvent.objects.bulk_create([RateEvent(bucket=r.bucket, key=r.key, at=now) for r in limits])
    if random.random() < 0.01:  # occasional cleanup keeps the table small without a cron job
        RateEvent.objects.filter(at__lt=now - timedelta(days=1)).delete()
    return 0


def request_limits(
    request: HttpRequest, *, name: str, email: str, per_ip: int, per_email: int
) -> list[RateLimit]:
    """The two usual limits of a request: per client IP and per (normalised) address."""
    limits = [RateLimit(f"{name}:ip", client_ip(request), per_ip)]
    if email:
        limits.append(RateLimit(f"{name}:email", rate_key_for_email(email), per_email))
    return limits


def too_many_requests(request: HttpRequest, retry_after_s: int, *, what: str) -> HttpResponse:
    """429 with Retry-After and a page saying what was refused and how long to wait."""
    response = error_response(
        request,
        429,
        "accounts/too_many_requests.html",
        what=what,
        retry_after_minutes=max(1, math.ceil(retry_after_s / 60)),
    )
    response["Retry-After"] = str(retry_after_s)
    return response
