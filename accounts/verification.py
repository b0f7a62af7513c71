"""Verifying addresses: after sign-up, and before a changed address takes effect.

A verification link carries a signature (SECRET_KEY, its own salt) over the person's id,
the address to verify and the schema, valid for EMAIL_VERIFICATION_MAX_AGE_S. Following it
marks `email` verified, or, for a pending change, makes `pending_email` the address; a link
for an address that is no longer `email` or `pending_email` is refused. Until an owner's
address is verified the organisation shows a banner and the owner cannot invite anyone.
"""

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.actions import AuditAction
from audit.actors import actor_for_user
from audit.services import audit_record
from core.tenancy import current_schema_name

from .directory import account_index_add, account_index_remove
from .mail import mail_queue
from .models import User

_SALT = "taskhive.accounts.verify-email"
INVALID_LINK = "This verification link is not valid any more. Sign in and ask for a new one."


def email_verification_token(*, user: User, email: str) -> str:
    return signing.dumps({"u": user.pk, "e": email, "s": current_schema_name()}, salt=_SALT, compress=True)


def email_verification_send(*, user: User, base_url: str) -> None:
    """Mail a verification link for the person's pending address, else their address, on commit.

    `base_url` is the organisation's origin, e.g. https://acme.example.com."""
    target = user.pending_email or user.email
    # Tenant URLs, also when called from the base domain (a sign-up).
    path = reverse(
        "accounts:email_verify",
        args=[email_verification_token(user=user, email=target)],
        urlconf=settings.ROOT_URLCONF,
    )
    link = base_url + path
    hours = max(1, settings.EMAIL_VERIFICATION_MAX_AGE_S // 3600)
    mail_queue(
        to=target,
        template="verify_email",
        context={
            "user": user,
            "email": target,
            "link": link,
            "hours": hours,
            "change": bool(user.pending_email),
        },
    )


def email_verify(*, token: str) -> User:
    """Apply a verification link; returns the person. Raises ValidationError when the link is
    forged, expired, from another organisation, or for an address no longer in question."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE_S)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        raise ValidationError(INVALID_LINK, code="invalid") from None
    if not isinstance(data, dict) or data.get("s") != current_schema_name():
        raise ValidationError(INVALID_LINK, code="invalid")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=int(data.get("u") or 0), is_active=True).first()
        email = data.get("e")
        if user is None or not email:
            raise ValidationError(INVALID_LINK, code="invalid")
        if user.pending_email and email == user.pending_email:
            if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                raise ValidationError("Someone in this organisation already uses that address.", code="taken")
            before = user.email
            user.email, user.pending_email, user.email_verified_at = email, "", timezone.now()
            user.save(update_fields=["email", "pending_email", "email_verified_at"])
            account_index_remove(email=before)
            account_index_add(email=email)
            audit_record(
                action=AuditAction.USER_UPDATED,
                actor=actor_for_user(user),
                target=user,
                changes={"email": [before, email], "verified": True},
            )
        elif email == user.email:
            if user.email_verified_at is None:
                user.email_verified_at = timezone.now()
                user.save(update_fields=["email_verified_at"])
        else:
            raise ValidationError(INVALID_LINK, code="invalid")
    return user


def email_address_clean(*, email: str, user: User | None = None) -> str:
    """A normalised address no one else in this organisation uses (pending ones included)."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ["Enter a valid email address."]}) from None
    others = User.objects.exclude(pk=user.pk) if user is not None else User.objects.all()
    if others.filter(email__iexact=email).exists():
        raise ValidationError({"email": ["Someone with this email is already in this organisation."]})
    return email


def user_email_change_request(*, user: User, email: str, base_url: str) -> User:
    """Ask for a new address: kept as `pending_email`, verified by a link mailed to it, and
    only then used (sign-in, mail). Asking again replaces the pending address."""
    email = email_address_clean(email=email, user=user)
    if email == user.email:
        if user.pending_email:
            user.pending_email = ""
            user.save(update_fields=["pending_email"])
        return user
    user.pending_email = email
    with transaction.atomic():
        user.save(update_fields=["pending_email"])
        email_verification_send(user=user, base_url=base_url)
    return user
