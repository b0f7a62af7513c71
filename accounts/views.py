"""Sign-in, settings (password and API tokens) and the owner's people pages."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import form_errors_add

from . import selectors, services
from .forms import ApiTokenForm, EmailAuthenticationForm, InviteForm
from .models import User


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


@owner_required
def member_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/member_list.html", {"people": selectors.user_list()})


@owner_required
@require_http_methods(["GET", "POST"])
def member_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.user_invite(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            link = request.build_absolute_uri(
                reverse("accounts:login") + "?" + urlencode({"email": person.email})
            )
            messages.success(request, f"Added {person.email} as {person.get_role_display().lower()}.")
            return render(request, "accounts/invite_done.html", {"person": person, "link": link}, status=201)
    return render(request, "accounts/invite.html", {"form": form}, status=400 if form.errors else 200)


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
