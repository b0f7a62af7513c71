"""Password reset by email, on every tenant host (that organisation's people) and on the
base domain (staff), with Django's views and tokens.

- Tokens are Django's: a signature over the person's password hash, last sign-in, address
  and a timestamp, so a link works once (a new password changes the hash) and expires after
  PASSWORD_RESET_TIMEOUT. The schema is part of the hash here, so a link for acme's person 5
  means nothing on globex.
- The same page answers for known and unknown addresses; the mail, when there is one, is
  sent by the job queue (`PasswordResetByJobForm.send_mail`), so a request takes as long
  either way and no SMTP latency tells them apart.
- Requests are throttled per address and per client IP (accounts/throttle/rates.py).
"""

from typing import Any

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.tenancy import current_schema_name

from .mail import mail_queue
from .models import User


class SchemaPasswordResetTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "taskhive.accounts.password-reset"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{current_schema_name()}:{super()._make_hash_value(user, timestamp)}"


password_reset_token_generator = SchemaPasswordResetTokenGenerator()


def password_reset_link(*, user: User, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = password_reset_token_generator.make_token(user)
    return base_url + reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def password_reset_send(*, user: User, base_url: str, requested_by_owner: bool = False) -> None:
    """Queue a reset mail for `user` (on commit)."""
    mail_queue(
        to=user.email,
        template="password_reset",
        context={
            "user": user,
            "link": password_reset_link(user=user, base_url=base_url),
            "requested_by_owner": requested_by_owner,
            "minutes": max(1, _timeout_s() // 60),
        },
    )


def _timeout_s() -> int:
    from django.conf import settings

    return int(settings.PASSWORD_RESET_TIMEOUT)


class PasswordResetByJobForm(PasswordResetForm):
    """Django's reset form; the mail goes through the job queue instead of being sent here."""

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        base_url = f"{context['protocol']}://{context['domain']}"
        password_reset_send(user=context["user"], base_url=base_url)
