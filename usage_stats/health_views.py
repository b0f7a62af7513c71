"""Staff-only health of this process's usage-stats collector."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from .ingest.process import snapshot


@never_cache
@staff_member_required
def stats_health(request: HttpRequest) -> JsonResponse:
    """Counters of the worker that serves the request (each process has its own)."""
    return JsonResponse(snapshot())
