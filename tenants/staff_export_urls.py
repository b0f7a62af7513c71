"""Staff exports on the base domain; saas/urls_public.py wraps each view in the admin's
staff sign-in (`admin.site.admin_view`)."""

from django.contrib import admin
from django.urls import path

from tenants import export_views

app_name = "staff_exports"

urlpatterns = [
    path("<slug:slug>/", admin.site.admin_view(export_views.staff_export_page), name="page"),
    path(
        "download/<str:task_id>/",
        admin.site.admin_view(export_views.staff_export_download),
        name="download",
    ),
]
