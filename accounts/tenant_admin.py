"""The Django admin on a tenant's host: owners manage their own people and tasks.

It is a separate AdminSite from the staff admin on the base domain, so a tenant
owner never sees tenants, domains or anything registered for staff. Access is
decided by role (owner), not by Django's staff/permission flags, and a signed-in
member gets a plain 403 rather than an admin sign-in form.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from .models import ApiToken, User


def _is_owner(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_owner", False))


class OwnerAuthenticationForm(AdminAuthenticationForm):
    def clean_username(self) -> str:
        return (self.cleaned_data.get("username") or "").strip().lower()

    def confirm_login_allowed(self, user) -> None:
        if not (user.is_active and user.is_owner):
            raise ValidationError("Only owners of this organisation can use the admin.", code="invalid_login")


class TenantAdminSite(admin.AdminSite):
    site_title = "Taskhive admin"
    index_title = "People and tasks"
    login_form = OwnerAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return _is_owner(request)

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        context["site_header"] = f"{tenant.name} admin" if tenant is not None else "Admin"
        return context

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if (
                request.user.is_authenticated
                and not self.has_permission(request)
                and request.path != reverse("admin:logout", current_app=self.name)
            ):
                raise PermissionDenied("Only owners can use the admin.")
            return inner(request, *args, **kwargs)

        return guarded

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.user.is_authenticated and not self.has_permission(request):
            raise PermissionDenied("Only owners can use the admin.")
        return super().login(request, extra_context)


tenant_admin_site = TenantAdminSite(name="admin")


class OwnerModelAdmin(admin.ModelAdmin):
    """Owners may do everything here; nobody else may do anything. A missing id is a 404."""

    def has_module_permission(self, request):
        return _is_owner(request)

    def has_view_permission(self, request, obj=None):
        return _is_owner(request)

    def has_add_permission(self, request):
        return _is_owner(request)

    def has_change_permission(self, request, obj=None):
        return _is_owner(request)

    def has_delete_permission(self, request, obj=None):
        return _is_owner(request)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with a message; a plain 404 says less.
        raise Http404("Not found.")


class TenantUserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("Someone with this email is already in this organisation.")
        return email


class TenantUserChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role", "is_active")

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError("Someone with this email is already in this organisation.")
        return email


@admin.register(User, site=tenant_admin_site)
class TenantUserAdmin(OwnerModelAdmin, DjangoUserAdmin):
    form = TenantUserChangeForm
    add_form = TenantUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "role", "password1", "password2")}),
    )
    readonly_fields = ["password", "last_login", "date_joined"]
    filter_horizontal = []

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            # An owner cannot lock themselves out by demoting or deactivating themselves.
            fields += ["role", "is_active"]
        return fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.pk == request.user.pk:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Staff status only opens the admin sign-in form; it follows the role.
        obj.is_staff = obj.role == User.Role.OWNER
        super().save_model(request, obj, form, change)


@admin.register(ApiToken, site=tenant_admin_site)
class ApiTokenAdmin(OwnerModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__email"]
    list_select_related = ["user"]
    fields = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["name", "user", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        # Tokens are created by their owner on the settings page, where the secret is shown once.
        return False
