"""Sign-in, settings (password and API tokens) and the owner's people pages."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import form_errors_add

from . import invitations, selectors, services
from .forms import ApiTokenForm, EmailAuthenticationForm, EmailChangeForm, InviteForm
from .models import Invitation, User
from .signup import origin


def owner_required(view: Callable) -> Callable:
    """Signed-in owners only: anonymous people go to sign-in, members get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_owner:
            raise PermissionDenied("Only owners can manage people.")
        return view(request, *args, **kwargs)

    return wrapper


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_initial(self) -> dict:
        # Invite links carry the new person's email.
        return {"username": self.request.GET.get("email", "")[:254]}

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Signed in as {form.get_user().email}.")
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:settings")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed.")
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


def _settings_page(request: HttpRequest, *, form: ApiTokenForm, new_token: str = "", status: int = 200):
    context = {
        "token_form": form,
        "email_form": EmailChangeForm(request.user),
        "tokens": selectors.api_token_list(user=request.user),
        "new_token": new_token,
    }
    return render(request, "accounts/settings.html", context, status=status)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    return _settings_page(request, form=ApiTokenForm())


@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request, f"Created token “{token.name}”. Copy it now: it will not be shown again."
            )
            # The secret is rendered into this response only; it is never stored.
            return _settings_page(request, form=ApiTokenForm(), new_token=raw, status=201)
    return _settings_page(request, form=form, status=400)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.api_token_get(user=request.user, token_id=token_id)
    if token is None:
        raise Http404("No such token.")
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, f"Revoked token “{token.name}”.")
    return redirect("accounts:settings")


def _base_url(request: HttpRequest) -> str:
    return origin(request, request.get_host().rsplit(":", 1)[0])


@owner_required
def member_list(request: HttpRequest) -> HttpResponse:
    context = {"people": selectors.user_list(), "invitations": selectors.invitation_pending_list()}
    return render(request, "accounts/member_list.html", context)


@owner_required
@require_http_methods(["GET", "POST"])
def member_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitations.invitation_create(
                actor=request.user,
                base_url=_base_url(request),
                organisation=request.tenant.name,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request, f"Invited {invitation.email} as {invitation.get_role_display().lower()}."
            )
            return render(request, "accounts/invite_done.html", {"invitation": invitation}, status=201)
    context = {"form": form, "invitation_days": max(1, settings.INVITATION_MAX_AGE_S // 86_400)}
    return render(request, "accounts/invite.html", context, status=400 if form.errors else 200)


def _invitation_or_404(invitation_id: int) -> Invitation:
    invitation = selectors.invitation_get(invitation_id=invitation_id)
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


@owner_required
@require_POST
def invitation_resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = _invitation_or_404(invitation_id)
    try:
        invitations.invitation_resend(
            actor=request.user,
            invitation=invitation,
            base_url=_base_url(request),
            organisation=request.tenant.name,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Sent a new invitation to {invitation.email}; the earlier link no longer works."
        )
    return redirect("accounts:members")


@owner_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = invitations.invitation_revoke(
        actor=request.user, invitation=_invitation_or_404(invitation_id)
    )
    messages.success(request, f"Revoked the invitation of {invitation.email}; its link no longer works.")
    return redirect("accounts:members")


@owner_required
@require_POST
def member_password_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _member_or_404(user_id)
    try:
        services.user_password_reset_request(actor=request.user, user=person, base_url=_base_url(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Sent {person.email} a link to choose a new password.")
    return redirect("accounts:members")


def _member_or_404(user_id: int) -> User:
    person = selectors.user_get(user_id=user_id)
    if person is None:
        raise Http404("No such person.")
    return person


@owner_required
@require_POST
def member_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _member_or_404(user_id)
    try:
        services.user_deactivate(actor=request.user, user=person)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Deactivated {person.email}. They can no longer sign in.")
    return redirect("accounts:members")


@owner_required
@require_POST
def member_activate(request: HttpRequest, user_id: int) -> HttpResponse:
    person = services.user_activate(actor=request.user, user=_member_or_404(user_id))
    messages.success(request, f"Reactivated {person.email}.")
    return redirect("accounts:members")
