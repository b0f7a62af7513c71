"""URLs on a tenant's host."""

from django.contrib import admin
from django.urls import include, path

from tasks_app import views as task_views

urlpatterns = [
    path("", task_views.task_list, name="task_list"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
]
