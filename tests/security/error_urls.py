"""A URL conf for the error-page tests: the tenant URLs plus views that fail on purpose."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.http import Http404, HttpResponseGone
from django.urls import path
from django.views.decorators.http import require_POST

from core.errors import error_response
from saas.urls_tenants import handler400, handler403, handler404, handler500  # noqa: F401
from saas.urls_tenants import urlpatterns as tenant_urlpatterns


def boom(request):
    raise RuntimeError("secret detail: password=hunter2 at /srv/app/settings.py")


def database_gone(request):
    raise OperationalError('could not connect to server: Connection refused "test_secret_db"')


def bad(request):
    raise SuspiciousOperation("secret detail: hunter2")


def denied(request):
    raise PermissionDenied("secret detail: hunter2")


def missing(request):
    raise Http404("secret detail: hunter2")


@require_POST
def post_only(request):
    raise AssertionError("never reached by GET")


def gone(request):
    return HttpResponseGone()


def throttled(request):
    return error_response(request, 429, retry_after_minutes=3)


# Each status and the view that answers it, at /status/<code>/ and /api/status/<code>/.
BY_STATUS = {400: bad, 403: denied, 404: missing, 405: post_only, 410: gone, 429: throttled, 500: boom}

urlpatterns = [
    path("boom/", boom),
    path("database-gone/", database_gone),
    *(path(f"status/{code}/", view) for code, view in BY_STATUS.items()),
    *(path(f"api/status/{code}/", view) for code, view in BY_STATUS.items()),
    *tenant_urlpatterns,
]
