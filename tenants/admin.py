from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection

from .models import Client, Domain
from .services import tenant_provision, tenant_slug_validate


class PublicSchemaOnlyAdmin(admin.ModelAdmin):
    """Tenant tables live in the public schema, which a tenant's search_path also
    reaches; only staff on the base domain may see them, never a tenant owner."""

    def _on_public(self) -> bool:
        return connection.schema_name == settings.PUBLIC_SCHEMA_NAME

    def has_module_permission(self, request):
        return self._on_public() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._on_public() and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._on_public() and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._on_public() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._on_public() and super().has_delete_permission(request, obj)


class ClientProvisionForm(forms.ModelForm):
    owner_email = forms.EmailField()
    owner_password = forms.CharField(widget=forms.PasswordInput, strip=False)

    class Meta:
        model = Client
        fields = ["name", "slug"]

    def clean_slug(self) -> str:
        return tenant_slug_validate(self.cleaned_data.get("slug", ""))

    def clean_owner_password(self) -> str:
        password = self.cleaned_data.get("owner_password", "")
        validate_password(password)
        return password

    def validate_unique(self) -> None:
        # tenant_slug_validate already checks uniqueness with a friendlier message.
        pass


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Client)
class ClientAdmin(PublicSchemaOnlyAdmin):
    list_display = ["name", "slug", "schema_name", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["schema_name", "created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ClientProvisionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "slug", "owner_email", "owner_password"]
        return ["name", "slug", "schema_name", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["slug", "schema_name", "created_at"]

    def get_inlines(self, request, obj):
        return [DomainInline] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        try:
            result = tenant_provision(
                slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"],
                owner_email=form.cleaned_data["owner_email"],
                owner_password=form.cleaned_data["owner_password"],
            )
        except ValidationError as exc:  # raced with another sign-up for the same slug
            raise forms.ValidationError(exc.messages) from exc
        obj.pk = result.tenant.pk
        obj.schema_name = result.tenant.schema_name


@admin.register(Domain)
class DomainAdmin(PublicSchemaOnlyAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain", "tenant__name"]
    list_select_related = ["tenant"]
