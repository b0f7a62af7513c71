"""A tenant URL conf for the isolation tests: a page cached with cache_page, and views
that fail inside a transaction, on top of the real tenant URLs."""

from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.cache import cache_page

from saas.urls_tenants import handler400, handler403, handler404, handler500  # noqa: F401
from saas.urls_tenants import urlpatterns as tenant_urlpatterns
from tasks_app.models import Task


@cache_page(60)
def cached(request, token):
    return HttpResponse(connection.schema_name)


def fail_in_transaction(request):
    with transaction.atomic():
        list(Task.objects.values_list("title", flat=True))
        raise RuntimeError("failed half-way")


def rollback_then_list(request):
    try:
        with transaction.atomic():
            list(Task.objects.values_list("title", flat=True))
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    return HttpResponse("\n".join(Task.objects.values_list("title", flat=True)))


urlpatterns = [
    path("cached/<str:token>/", cached),
    path("fail-in-transaction/", fail_in_transaction),
    path("rollback-then-list/", rollback_then_list),
    *tenant_urlpatterns,
]
