from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.signup import signup_complete, signup_throttle
from core.forms import form_errors_add

from .forms import SignupForm
from .services import tenant_provision


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "public/landing.html")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    form.fields["slug"].help_text = form.fields["slug"].help_text.format(base=settings.BASE_DOMAIN)
    if request.method == "POST" and form.is_valid():
        # Throttled per IP and per email (accounts/signup.py) before any schema is made.
        throttled = signup_throttle(request, email=form.cleaned_data["owner_email"])
        if throttled is not None:
            return throttled
        try:
            result = tenant_provision(**form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            # The owner arrives signed in on the new host through a one-time hand-off.
            return signup_complete(
                request,
                schema_name=result.tenant.schema_name,
                host=result.domain.domain,
                owner_email=result.owner_email,
            )
    return render(request, "public/signup.html", {"form": form}, status=400 if form.errors else 200)
