"""Pages reached from mail or from outside an organisation: password reset (tenant hosts and,
for staff, the base domain), invitation links, address verification, the sign-up hand-off,
and "find my organisation" on the base domain. Thin: the rules are in the modules they call."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import form_errors_add
from core.tenancy import on_public_schema

from . import directory, invitations, verification
from .forms import EmailChangeForm, FindOrganisationForm, InvitationAcceptForm
from .mail import mail_queue
from .passwords import PasswordResetByJobForm, password_reset_token_generator
from .signup import origin, signup_handoff_consume
from .throttle.rates import rate_limits_hit, request_limits, too_many_requests

BACKEND = "accounts.throttle.services.ThrottledModelBackend"


def _mail_request_throttled(request: HttpRequest, *, name: str, email: str, what: str) -> HttpResponse | None:
    limits = request_limits(
        request,
        name=name,
        email=email,
        per_ip=settings.ACCOUNT_MAIL_THROTTLE_PER_IP,
        per_email=settings.ACCOUNT_MAIL_THROTTLE_PER_EMAIL,
    )
    wait_s = rate_limits_hit(limits=limits, window_s=settings.ACCOUNT_MAIL_THROTTLE_WINDOW_S)
    return too_many_requests(request, wait_s, what=what) if wait_s else None


def _invalid_link(request: HttpRequest, message: str, *, status: int = 400) -> HttpResponse:
    return render(request, "accounts/link_invalid.html", {"message": message}, status=status)


# --- password reset -------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer for every address; throttled per address and per IP."""

    template_name = "accounts/password_reset.html"
    form_class = PasswordResetByJobForm
    token_generator = password_reset_token_generator

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        throttled = _mail_request_throttled(
            self.request, name="reset", email=email, what="password-reset requests"
        )
        if throttled is not None:
            return throttled
        form.save(
            request=self.request,
            use_https=self.request.is_secure(),
            token_generator=self.token_generator,
            from_email=None,
        )
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def get_success_url(self) -> str:
        return "/accounts/password/reset/sent/"


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from a mailed link, then signed in. The link works once and
    expires after PASSWORD_RESET_TIMEOUT; following it also verifies the address."""

    template_name = "accounts/password_reset_confirm.html"
    token_generator = password_reset_token_generator
    post_reset_login = True
    post_reset_login_backend = BACKEND

    def get_success_url(self) -> str:
        return "/admin/" if on_public_schema() else "/"

    def form_valid(self, form):
        user = form.user
        if getattr(user, "email_verified_at", True) is None:
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email_verified_at"])
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed and you are signed in.")
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        if not getattr(self, "validlink", True) and response.status_code == 200:
            response.status_code = 400  # a used, expired or forged link
        return response


# --- invitations, verification, hand-off ------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitations.invitation_from_token(token)
    except ValidationError as exc:
        return _invalid_link(request, exc.messages[0])
    form = InvitationAcceptForm(request.POST or None, initial={"full_name": invitation.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.invitation_accept(
                token=token, password=form.cleaned_data["password1"], full_name=form.cleaned_data["full_name"]
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                return _invalid_link(request, exc.messages[0])
            form_errors_add(form, exc)
        else:
            login(request, user, backend=BACKEND)
            messages.success(request, f"Welcome! You are signed in as {user.email}.")
            return redirect("/")
    context = {"form": form, "invitation": invitation}
    return render(request, "accounts/invitation_accept.html", context, status=400 if form.errors else 200)


def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = verification.email_verify(token=token)
    except ValidationError as exc:
        return _invalid_link(request, exc.messages[0])
    messages.success(request, f"Thank you: {user.email} is confirmed.")
    return redirect("/" if request.user.is_authenticated else "accounts:login")


@login_required
@require_POST
def email_verification_resend(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_email_verified and not user.pending_email:
        messages.info(request, "Your address is already confirmed.")
    else:
        verification.email_verification_send(
            user=user, base_url=origin(request, request.get_host().split(":")[0])
        )
        messages.success(request, f"We sent a new link to {user.pending_email or user.email}.")
    return redirect(request.POST.get("next") or "accounts:settings")


@login_required
@require_POST
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.user, request.POST)
    if form.is_valid():
        try:
            verification.user_email_change_request(
                user=request.user,
                email=form.cleaned_data["email"],
                base_url=origin(request, request.get_host().split(":")[0]),
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request,
                f"We sent a link to {form.cleaned_data['email']}. Your address changes once you follow it.",
            )
            return redirect("accounts:settings")
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("accounts:settings")


def signup_welcome(request: HttpRequest) -> HttpResponse:
    """The one-time hand-off from sign-up on the base domain to the new subdomain."""
    try:
        user = signup_handoff_consume(request, token=request.GET.get("t", "")[:2000])
    except ValidationError as exc:
        return _invalid_link(request, exc.messages[0])
    login(request, user, backend=BACKEND)
    messages.success(
        request,
        f"Your organisation is ready and you are signed in. We sent a link to {user.email} to confirm it.",
    )
    return redirect("/")


# --- find my organisation (base domain) -------------------------------------------------------


@require_http_methods(["GET", "POST"])
def find_organisation(request: HttpRequest) -> HttpResponse:
    """Mail the organisations an address has an account in. The page says the same whether
    there are any or not; no mail is sent when there are none."""
    form = FindOrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        throttled = _mail_request_throttled(request, name="find-org", email=email, what="requests")
        if throttled is not None:
            return throttled
        hits = directory.account_index_organisations(email=email)
        if hits:
            links = [
                (hit.name, origin(request, hit.host) + "/accounts/login/?" + _email_query(email))
                for hit in hits
            ]
            mail_queue(to=email, template="organisations", context={"email": email, "organisations": links})
        return render(request, "accounts/find_organisation_sent.html", {"email": email})
    return render(
        request, "accounts/find_organisation.html", {"form": form}, status=400 if form.errors else 200
    )


def _email_query(email: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"email": email})


def public_login(request: HttpRequest) -> HttpResponse:
    """The base domain has no sign-in of its own: people sign in on their organisation's
    address, staff in the admin. This page leads to both."""
    return redirect("accounts:find_organisation")
