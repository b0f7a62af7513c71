"""The public URL conf plus views that answer each error status (tests/security/error_urls.py)."""

from django.urls import path

from saas.urls_public import handler400, handler403, handler404, handler500  # noqa: F401
from saas.urls_public import urlpatterns as public_urlpatterns
from tests.security.error_urls import BY_STATUS

urlpatterns = [
    *(path(f"status/{code}/", view) for code, view in BY_STATUS.items()),
    *public_urlpatterns,
]
