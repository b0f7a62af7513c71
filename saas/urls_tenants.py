"""URLs on a tenant's host."""

from django.urls import include, path
from django.views.generic import RedirectView

from accounts.tenant_admin import tenant_admin_site
from tasks_app import views as task_views
from tasks_app.api import api as tasks_api
from usage_stats.dashboards import views as usage_views

urlpatterns = [
    path("", task_views.task_list, name="task_list"),
    path("tasks/", include("tasks_app.urls")),
    path("accounts/", include("accounts.urls")),
    # Owners only, and only this tenant's people and tasks (accounts/tenant_admin.py).
    # The name Django's admin looks for to show "Forgotten your password?" on its sign-in page.
    path(
        "admin/password_reset/",
        RedirectView.as_view(pattern_name="accounts:password_reset"),
        name="admin_password_reset",
    ),
    path("admin/", tenant_admin_site.urls),
    path("api/v1/", tasks_api.urls),
    # Owners only; the tenant is the host's, never a parameter (usage_stats/dashboards/views.py).
    path("usage/", usage_views.tenant_usage, name="usage"),
    # Owners only: exports written by a background job (tenants/exports.py).
    path("export/", include("tenants.export_urls")),
]

# Error pages that reveal nothing (core/errors.py); the same in both URL confs.
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
