from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import Http404

from accounts.tenant_admin import OwnerModelAdmin, tenant_admin_site
from core.forms import visible_text_fields

from . import selectors, services
from .models import Task


class TaskAdminForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["title", "description", "status", "due_date", "assignee"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        visible_text_fields(self, "title", "description")

    def clean_assignee(self):
        assignee = self.cleaned_data.get("assignee")
        if assignee is not None and not assignee.is_active and "assignee" in self.changed_data:
            raise ValidationError("This person has been deactivated; choose someone else.")
        return assignee


@admin.register(Task, site=tenant_admin_site)
class TaskAdmin(OwnerModelAdmin):
    """Tasks in the owner's admin. Every write goes through tasks_app.services, as from the
    UI and the API, so each records its usage events (task.created, task.deleted, ...)."""

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
        data = {name: form.cleaned_data[name] for name in TaskAdminForm.Meta.fields}
        if not change:
            self.adopt_saved(obj, services.task_create(actor=request.user, **data))
            return
        # The form has already applied its values to `obj`; task_update compares with the stored row.
        stored = selectors.task_get(task_id=obj.pk)
        if stored is None:
            raise Http404("Not found.")
        changes = {name: data[name] for name in form.changed_data if name in data}
        self.adopt_saved(obj, services.task_update(actor=request.user, task=stored, **changes))

    def delete_model(self, request, obj):
        services.task_delete(actor=request.user, task=obj)

    def delete_queryset(self, request, queryset):
        services.task_bulk_delete(actor=request.user, tasks=queryset)
