"""URLs on the shared API host `api.<BASE_DOMAIN>` (tenants/api_host.py): the API only."""

from django.urls import path

from tasks_app.api import api as tasks_api

urlpatterns = [
    path("api/v1/", tasks_api.urls),
]

# Under /api/ these answer JSON (core/errors.py).
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
