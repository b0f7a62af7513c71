from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from audit.actors import actor_for_user
from core.tenancy import on_public_schema

from .exports import tenant_export_request
from .models import Client, Domain
from .services import (
    domain_add,
    domain_normalize,
    domain_remove,
    domain_set_primary,
    domain_validate,
    tenant_delete,
    tenant_provision,
    tenant_reactivate,
    tenant_rename,
    tenant_restore,
    tenant_slug_validate,
    tenant_subdomain_change,
    tenant_suspend,
)


class PublicSchemaOnlyAdmin(admin.ModelAdmin):
    """Tenant tables live in the public schema, which a tenant's search_path also
    reaches; only staff on the base domain may see them, never a tenant owner."""

    def _on_public(self) -> bool:
        return on_public_schema()

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


class DomainForm(forms.ModelForm):
    """A host for the tenant, normalised as routing sees it; under BASE_DOMAIN only its own slug.

    A stored domain's host cannot be edited: add the new host and remove the old one, so each
    step goes through its service and leaves its audit record.
    """

    class Meta:
        model = Domain
        fields = ["domain", "is_primary"]

    def clean_domain(self) -> str:
        host = domain_normalize(self.cleaned_data.get("domain", ""))
        if self.instance.pk:
            if host != self.initial.get("domain"):
                raise ValidationError("Add the new host as another domain and remove this one instead.")
            return host
        tenant = Client.objects.filter(pk=self.instance.tenant_id).first()
        return domain_validate(tenant=tenant, domain=host) if tenant is not None else host


class DomainFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk
            if not (self.can_delete and self._should_delete_form(form))
        ]
        primaries = sum(1 for form in kept if form.cleaned_data.get("is_primary"))
        # A tenant with domains keeps exactly one primary; removing them all is not offered.
        if (kept or self.initial_form_count()) and primaries != 1:
            raise ValidationError("Exactly one domain must be primary.")


class DomainInline(admin.TabularInline):
    """Saved by ClientAdmin.save_formset through the domain services, never by the formset."""

    model = Domain
    form = DomainForm
    formset = DomainFormSet
    extra = 0


class DeleteTenantForm(forms.Form):
    confirm_slug = forms.CharField(label="Type the tenant's slug to confirm", strip=True)


class SubdomainForm(forms.Form):
    new_slug = forms.CharField(label="New subdomain", strip=True, max_length=63)


@admin.register(Client)
class ClientAdmin(PublicSchemaOnlyAdmin):
    list_display = ["name", "slug", "schema_name", "status", "created_at"]
    list_filter = [("suspended_at", admin.EmptyFieldListFilter), ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug", "=uuid"]
    readonly_fields = ["uuid", "schema_name", "created_at", "suspended_at", "suspended_reason", "deleted_at"]
    actions = [
        "suspend_tenants",
        "reactivate_tenants",
        "export_tenant",
        "change_subdomain",
        "delete_tenant",
        "restore_tenants",
    ]

    @admin.display(description="status")
    def status(self, obj: Client) -> str:
        if obj.is_deleted:
            return f"deleted, purged after {obj.purge_due_at:%Y-%m-%d %H:%M} UTC"
        return "suspended" if obj.is_suspended else "active"

    def get_actions(self, request):
        # Deleting rows without dropping schemas is never wanted: the delete_tenant action does both.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        return False  # only through the delete_tenant action, with the slug typed

    @admin.action(description="Suspend selected tenants (their hosts answer 423)", permissions=["change"])
    def suspend_tenants(self, request, queryset):
        actor = actor_for_user(request.user)
        self._each(
            request,
            queryset,
            lambda t: tenant_suspend(actor=actor, tenant=t, reason=f"by {request.user}"),
            "suspended",
        )

    @admin.action(description="Restore selected deleted tenants (before their purge)", permissions=["change"])
    def restore_tenants(self, request, queryset):
        actor = actor_for_user(request.user)
        self._each(request, queryset, lambda t: tenant_restore(actor=actor, tenant=t), "restored")

    @admin.action(description="Change the selected tenant's subdomain…", permissions=["change"])
    def change_subdomain(self, request, queryset):
        tenant = self._single(request, queryset, "rename")
        if tenant is None:
            return None
        form = SubdomainForm(request.POST if "new_slug" in request.POST else None)
        if form.is_bound and form.is_valid():
            old = tenant.slug
            try:
                tenant_subdomain_change(
                    actor=actor_for_user(request.user), tenant=tenant, slug=form.cleaned_data["new_slug"]
                )
            except ValidationError as exc:
                form.add_error(
                    "new_slug",
                    exc.message_dict.get("slug", exc.messages) if hasattr(exc, "error_dict") else exc,
                )
            else:
                self.message_user(
                    request, f"{old} is now {tenant.slug}; the old subdomain redirects.", messages.SUCCESS
                )
                return None
        return self._confirm_page(
            request, tenant, form, "tenants/admin/change_subdomain.html", "Change the subdomain"
        )

    @admin.action(description="Reactivate selected tenants", permissions=["change"])
    def reactivate_tenants(self, request, queryset):
        actor = actor_for_user(request.user)
        self._each(request, queryset, lambda t: tenant_reactivate(actor=actor, tenant=t), "reactivated")

    def _each(self, request, queryset, change, done: str) -> None:
        names = []
        for tenant in queryset:
            try:
                change(tenant)
            except ValidationError as exc:
                self.message_user(request, f"{tenant.slug}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                names.append(tenant.slug)
        if names:
            self.message_user(
                request, f"{len(names)} tenant(s) {done}: {', '.join(names)}.", messages.SUCCESS
            )

    @admin.action(description="Export the selected tenant's data (JSON)", permissions=["view"])
    def export_tenant(self, request, queryset):
        """Queue the export (a worker writes it) and show its page, which offers the file,
        to this staff member only, once it is ready."""
        tenant = self._single(request, queryset, "export")
        if tenant is None:
            return None
        try:
            tenant_export_request(tenant=tenant, actor=request.user, fmt="json")
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return None
        return redirect("staff_exports:page", slug=tenant.slug)

    @admin.action(
        description="Delete the selected tenant (purged after the grace period)…", permissions=["change"]
    )
    def delete_tenant(self, request, queryset):
        tenant = self._single(request, queryset, "delete")
        if tenant is None:
            return None
        form = DeleteTenantForm(request.POST if "confirm_slug" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                tenant_delete(
                    actor=actor_for_user(request.user),
                    tenant=tenant,
                    confirm_slug=form.cleaned_data["confirm_slug"],
                )
            except ValidationError as exc:
                form.add_error("confirm_slug", exc)
            else:
                self.message_user(
                    request,
                    f"Deleted {tenant.slug}: its hosts are closed; it is purged after "
                    f"{tenant.purge_due_at:%Y-%m-%d %H:%M} UTC unless restored.",
                    messages.SUCCESS,
                )
                return None
        return self._confirm_page(
            request, tenant, form, "tenants/admin/delete_tenant.html", f"Delete {tenant.name}?"
        )

    def _confirm_page(self, request, tenant: Client, form: forms.Form, template: str, title: str):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "tenant": tenant,
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "grace_days": f"{settings.TENANT_DELETION_GRACE_DAYS:g}",
            "base_domain": settings.BASE_DOMAIN,
        }
        return TemplateResponse(request, template, context, status=400 if form.errors else 200)

    def _single(self, request, queryset, verb: str) -> Client | None:
        tenants = list(queryset[:2])
        if len(tenants) != 1:
            self.message_user(request, f"Select exactly one tenant to {verb}.", messages.WARNING)
            return None
        if tenants[0].schema_name == settings.PUBLIC_SCHEMA_NAME:
            self.message_user(request, f"The public site cannot be {verb}d.", messages.ERROR)
            return None
        return tenants[0]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ClientProvisionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "slug", "owner_email", "owner_password"]
        return [
            "name",
            "slug",
            "uuid",
            "schema_name",
            "created_at",
            "suspended_at",
            "suspended_reason",
            "deleted_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["slug", "uuid", "schema_name", "created_at", "suspended_at", "suspended_reason", "deleted_at"]

    def get_inlines(self, request, obj):
        return [DomainInline] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            # Only the name is editable here; everything else has its own action.
            tenant_rename(actor=actor_for_user(request.user), tenant=obj, name=form.cleaned_data["name"])
            return None
        try:
            result = tenant_provision(
                slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"],
                owner_email=form.cleaned_data["owner_email"],
                owner_password=form.cleaned_data["owner_password"],
                actor=actor_for_user(request.user),
            )
        except ValidationError as exc:  # raced with another sign-up for the same slug
            raise forms.ValidationError(exc.messages) from exc
        obj.pk = result.tenant.pk
        obj.schema_name = result.tenant.schema_name

    def save_formset(self, request, form, formset, change):
        if formset.model is not Domain:
            return super().save_formset(request, form, formset, change)
        # Through the services, in the order that keeps exactly one primary at every step:
        # new hosts, then the change of primary, then removals (never of the primary).
        actor = actor_for_user(request.user)
        tenant = form.instance
        deleted = [f for f in formset.initial_forms if formset._should_delete_form(f)]
        kept = [f for f in formset.forms if f not in deleted and (f.instance.pk or f.has_changed())]
        primary = None
        for domain_form in kept:
            domain = domain_form.instance
            if domain.pk is None:
                domain = domain_add(actor=actor, tenant=tenant, domain=domain_form.cleaned_data["domain"])
                domain_form.instance = domain
            if domain_form.cleaned_data.get("is_primary"):
                primary = domain
        if primary is not None:
            domain_set_primary(actor=actor, domain=primary)
        for domain_form in deleted:
            domain_remove(actor=actor, domain=domain_form.instance)
        formset.new_objects = [f.instance for f in kept if f not in formset.initial_forms]
        formset.changed_objects = []
        formset.deleted_objects = [f.instance for f in deleted]
        return None


@admin.register(Domain)
class DomainAdmin(PublicSchemaOnlyAdmin):
    """Every domain, to look one up; changes are made on the tenant's page (DomainInline)."""

    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain", "tenant__name"]
    list_select_related = ["tenant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
