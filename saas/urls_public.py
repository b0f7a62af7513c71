"""URLs on the base domain: the public site and the staff admin."""

from django.contrib import admin
from django.urls import path

from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.landing, name="landing"),
    path("signup/", tenant_views.signup, name="signup"),
    path("admin/", admin.site.urls),
]
