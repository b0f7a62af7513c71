"""A URL conf for the error-page tests: the tenant URLs plus views that fail on purpose."""

from django.db import OperationalError
from django.urls import path

from saas.urls_tenants import handler400, handler403, handler404, handler500  # noqa: F401
from saas.urls_tenants import urlpatterns as tenant_urlpatterns


def boom(request):
    raise RuntimeError("secret detail: password=hunter2 at /srv/app/settings.py")


def database_gone(request):
    raise OperationalError('could not connect to server: Connection refused "test_secret_db"')


urlpatterns = [
    path("boom/", boom),
    path("database-gone/", database_gone),
    *tenant_urlpatterns,
]
