"""URLs on the base domain: the public site and the staff admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from core import views as core_views
from tenants import views as tenant_views
from usage_stats import health_views as stats_health_views

urlpatterns = [
    path("", tenant_views.landing, name="landing"),
    path("signup/", tenant_views.signup, name="signup"),
    path("accounts/", include("accounts.urls_public")),
    path("login/", RedirectView.as_view(pattern_name="accounts:find_organisation"), name="login_redirect"),
    # The name Django's admin looks for to show "Forgotten your password?" on its sign-in page.
    path(
        "admin/password_reset/",
        RedirectView.as_view(pattern_name="accounts:password_reset"),
        name="admin_password_reset",
    ),
    path("admin/", admin.site.urls),
    # Staff only (the admin's sign-in): tenant exports written by a background job.
    path("staff/exports/", include("tenants.staff_export_urls")),
    path("metrics", core_views.metrics, name="metrics"),
    path("stats/health/", stats_health_views.stats_health, name="stats_health"),
]

# Error pages that reveal nothing (core/errors.py); the same in both URL confs.
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
