"""The staff usage dashboard inside the Django admin on the base domain: two admin URLs
(behind admin_view, so staff sign-in is required) and an entry on the admin index and
sidebar. Nothing is registered as a model: the figures live in the stats database."""

from django.contrib import admin
from django.urls import NoReverseMatch, path, reverse

from core.tenancy import on_public_schema

from .dashboards import views

# django-tenants' admin index only links apps listed in SHARED_APPS on the public schema.
APP_LABEL = "usage_stats"


def _with_usage_urls(site: admin.AdminSite):
    original = site.get_urls

    def get_urls():
        return [
            path("usage/", site.admin_view(views.staff_usage), name="usage"),
            path(
                "usage/tenant/<slug:tenant>/", site.admin_view(views.staff_tenant_usage), name="usage_tenant"
            ),
            *original(),
        ]

    return get_urls


def _with_usage_entry(site: admin.AdminSite):
    original = site.get_app_list

    def get_app_list(request, app_label=None):
        app_list = original(request, app_label)
        on_public = on_public_schema()
        if app_label is not None or not on_public or not request.user.is_staff:
            return app_list
        try:
            url = reverse("admin:usage", current_app=site.name)
        except NoReverseMatch:
            return app_list
        entry = {
            "name": "Usage",
            "app_label": APP_LABEL,
            "app_url": url,
            "has_module_perms": True,
            "models": [
                {
                    "model": None,
                    "name": "Usage dashboard",
                    "object_name": "UsageDashboard",
                    "perms": {"view": True},
                    "admin_url": url,
                    "add_url": None,
                    "view_only": True,
                }
            ],
        }
        return sorted([*app_list, entry], key=lambda app: app["name"].lower())

    return get_app_list


admin.site.get_urls = _with_usage_urls(admin.site)
admin.site.get_app_list = _with_usage_entry(admin.site)
