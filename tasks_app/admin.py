from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from accounts.tenant_admin import OwnerModelAdmin, tenant_admin_site

from . import services
from .models import Task


class TaskAdminForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["title", "description", "status", "due_date", "assignee"]

    def clean_assignee(self):
        assignee = self.cleaned_data.get("assignee")
        if assignee is not None and not assignee.is_active and "assignee" in self.changed_data:
            raise ValidationError("This person has been deactivated; choose someone else.")
        return assignee


@admin.register(Task, site=tenant_admin_site)
class TaskAdmin(OwnerModelAdmin):
    """Tasks in the owner's admin; saves go through the service, which keeps
    completed_at in step with status."""

    form = TaskAdminForm
    list_display = ["title", "status", "assignee", "due_date", "created_at"]
    list_filter = ["status", "due_date"]
    search_fields = ["title", "description"]
    list_select_related = ["assignee"]
    autocomplete_fields = ["assignee"]
    fields = [
        "title",
        "description",
        "status",
        "due_date",
        "assignee",
        "created_by",
        "created_at",
        "completed_at",
    ]
    readonly_fields = ["created_by", "created_at", "completed_at"]
    date_hierarchy = "created_at"

    def save_model(self, request, obj, form, change):
        services.task_save(actor=request.user, task=obj, assignee_changed="assignee" in form.changed_data)
