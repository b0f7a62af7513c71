"""The Django admin on a tenant's host: owners manage their own people and tasks.

It is a separate AdminSite from the staff admin on the base domain, so a tenant
owner never sees tenants, domains or anything registered for staff. Access is
decided by role (owner), not by Django's staff/permission flags, and a signed-in
member gets a plain 403 rather than an admin sign-in form.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from audit.actions import ActorKind
from audit.admin import ReadOnlyAuditAdmin
from audit.models import AuditRecord
from audit.selectors import audit_record_list

from . import invitations, selectors, services
from .models import ApiToken, Invitation, User
from .signup import origin


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

    @staticmethod
    def adopt_saved(obj: models.Model, saved: models.Model) -> None:
        """Make the admin's unsaved `obj` the row a service created, for the admin's log and redirect."""
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db


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
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ["password", "last_login", "date_joined"]
    filter_horizontal = []

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            # An owner cannot lock themselves out by demoting or deactivating themselves.
            fields += ["role", "is_active"]
        return fields

    actions = ["send_password_reset"]

    def has_add_permission(self, request):
        # People join by invitation and choose their own password (Invitations, or People).
        return False

    def user_change_password(self, request, id, form_url=""):
        # Owners never choose anyone's password: "Reset the selected people's passwords"
        # mails them a link; their own is changed under Settings.
        raise PermissionDenied("People choose their own passwords. Send them a password-reset mail instead.")

    @admin.action(description="Reset the selected people's passwords (mails them a link)")
    def send_password_reset(self, request, queryset):
        base_url = origin(request, request.get_host().rsplit(":", 1)[0])
        for person in queryset:
            services.user_password_reset_request(actor=request.user, user=person, base_url=base_url)
        self.message_user(request, f"Sent {queryset.count()} password-reset mail(s).", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        # People are deactivated (accounts.services.user_deactivate), never deleted: their
        # tasks, tokens and audit records keep pointing at someone.
        return False

    def save_model(self, request, obj, form, change):
        """Every change through its service: profile (a new address waits for its verification
        link), role, (de)activation."""
        data = form.cleaned_data
        # The form has already applied its values to `obj`; the services compare with the stored row.
        stored = selectors.user_get(user_id=obj.pk)
        if stored is None:
            raise Http404("Not found.")
        changed = set(form.changed_data)
        if changed & {"email", "full_name"}:
            services.user_update(
                actor=request.user,
                user=stored,
                base_url=origin(request, request.get_host().rsplit(":", 1)[0]),
                email=data.get("email"),
                full_name=data.get("full_name"),
            )
        if "role" in changed:
            services.user_role_change(actor=request.user, user=stored, role=data["role"])
        if "is_active" in changed:
            toggle = services.user_activate if data["is_active"] else services.user_deactivate
            toggle(actor=request.user, user=stored)
        self.adopt_saved(obj, stored)


class InvitationAddForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ("email", "full_name", "role")


@admin.register(Invitation, site=tenant_admin_site)
class InvitationAdmin(OwnerModelAdmin):
    """Invite people (a mail with a link to choose their password), resend or revoke."""

    form = InvitationAddForm
    list_display = ["email", "role", "sent_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["email"]
    actions = ["resend", "revoke"]

    def has_change_permission(self, request, obj=None):
        return obj is None and _is_owner(request)  # the list, never an edit form

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted

    def save_model(self, request, obj, form, change):
        try:
            invitation = invitations.invitation_create(
                actor=request.user,
                base_url=origin(request, request.get_host().rsplit(":", 1)[0]),
                organisation=request.tenant.name,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from None
        self.adopt_saved(obj, invitation)

    @admin.action(description="Resend the selected invitations (new links)")
    def resend(self, request, queryset):
        base_url = origin(request, request.get_host().rsplit(":", 1)[0])
        sent = 0
        for invitation in queryset:
            try:
                invitations.invitation_resend(
                    actor=request.user,
                    invitation=invitation,
                    base_url=base_url,
                    organisation=request.tenant.name,
                )
                sent += 1
            except ValidationError as exc:
                self.message_user(request, f"{invitation.email}: {' '.join(exc.messages)}", messages.WARNING)
        self.message_user(request, f"Resent {sent} invitation(s).", messages.SUCCESS)

    @admin.action(description="Revoke the selected invitations")
    def revoke(self, request, queryset):
        for invitation in queryset:
            invitations.invitation_revoke(actor=request.user, invitation=invitation)
        self.message_user(request, f"Revoked {queryset.count()} invitation(s).", messages.SUCCESS)


@admin.register(ApiToken, site=tenant_admin_site)
class ApiTokenAdmin(OwnerModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__email"]
    list_select_related = ["user"]
    fields = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    # revoked_at above all: revoking is one-way, and only the revoke action sets it.
    readonly_fields = fields
    actions = ["revoke_tokens"]

    def has_add_permission(self, request):
        # Tokens are created by their owner on the settings page, where the secret is shown once.
        return False

    def has_change_permission(self, request, obj=None):
        return False  # nothing about a token can be edited; see revoke_tokens

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted, so the record of the token stays

    def has_revoke_permission(self, request):
        return _is_owner(request)

    @admin.action(description="Revoke selected tokens (cannot be undone)", permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        revoked = [services.api_token_revoke(actor=request.user, token=token) for token in queryset]
        self.message_user(request, f"{len(revoked)} token(s) revoked.", messages.SUCCESS)


@admin.register(AuditRecord, site=tenant_admin_site)
class OwnerAuditRecordAdmin(ReadOnlyAuditAdmin, OwnerModelAdmin):
    """This organisation's audit records, read-only.

    The table is in the public schema (reached through the tenant's search_path), holding
    every tenant's records, so the list is filtered by the host's tenant explicitly.
    """

    list_filter = ["action", "actor_kind"]
    # Platform staff and command-line runs are named by kind only, never by their account.
    list_display = ["created_at", "action", "actor", "target_type", "target_label"]
    fields = ["created_at", "action", "actor", "target_type", "target_id", "target_label", "changes"]
    readonly_fields = fields
    search_fields = ["target_label"]

    @admin.display(description="by")
    def actor(self, record: AuditRecord) -> str:
        if record.actor_kind in (ActorKind.OWNER, ActorKind.MEMBER):
            return record.actor_email
        return record.get_actor_kind_display()

    def get_queryset(self, request):
        return audit_record_list(tenant_uuid=request.tenant.uuid)
