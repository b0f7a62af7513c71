"""URLs on the base domain: the public site and the staff admin."""

from django.contrib import admin
from django.urls import path

from saas import views as saas_views
from tenants import views as tenant_views
from usage_stats import health_views as stats_health_views

urlpatterns = [
    path("", tenant_views.landing, name="landing"),
    path("signup/", tenant_views.signup, name="signup"),
    path("admin/", admin.site.urls),
    path("metrics", saas_views.metrics, name="metrics"),
    path("stats/health/", stats_health_views.stats_health, name="stats_health"),
]

# Error pages that reveal nothing (saas/errors.py); the same in both URL confs.
handler400 = "saas.errors.bad_request"
handler403 = "saas.errors.permission_denied"
handler404 = "saas.errors.page_not_found"
handler500 = "saas.errors.server_error"
