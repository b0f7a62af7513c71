from django.urls import path

from tenants import export_views

app_name = "exports"

urlpatterns = [
    path("", export_views.tenant_export_page, name="page"),
    path("<str:task_id>/download/", export_views.tenant_export_download, name="download"),
]
