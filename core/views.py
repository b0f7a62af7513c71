"""Platform views on the base domain (error handlers live in core/errors.py)."""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .errors import error_response
from .metrics import metrics_render


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode())
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition for staff (public-schema users) or a scraper holding METRICS_TOKEN."""
    if not _metrics_allowed(request):
        return error_response(request, 403)
    body, content_type = metrics_render()
    return HttpResponse(body, content_type=content_type)
