from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

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
        try:
            result = tenant_provision(**form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            port = request.get_port()
            port_part = "" if port in ("80", "443") else f":{port}"
            return HttpResponseRedirect(
                f"{request.scheme}://{result.domain.domain}{port_part}/accounts/login/?welcome=1"
            )
    return render(request, "public/signup.html", {"form": form}, status=400 if form.errors else 200)
