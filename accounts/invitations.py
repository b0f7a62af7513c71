"""Invitations by email: an owner invites an address with a role; the invitee follows a
signed link and chooses their own password (owners never choose or see it).

The link carries a signature (SECRET_KEY, its own salt) over the invitation's id and a
random nonce stored on the row, valid for INVITATION_MAX_AGE_S. It works once: accepting
sets `accepted_at`; revoking sets `revoked_at`; resending draws a new nonce and a new
expiry, so older links stop working. Only an owner whose own address is verified can
invite, resend or revoke.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

import usage_stats
from audit.actions import AuditAction
from audit.actors import actor_for_user
from audit.services import audit_record
from core.tenancy import current_schema_name

from .directory import account_index_add
from .mail import mail_queue
from .models import Invitation, User
from .verification import email_address_clean

_SALT = "taskhive.accounts.invitation"
INVALID_LINK = "This invitation is not valid any more. Ask an owner of the organisation to invite you again."
UNVERIFIED = "Confirm your own email address first (see the banner), then invite others."


def _require_inviting_owner(actor: User) -> None:
    if not (actor.is_active and actor.is_owner):
        raise PermissionDenied("Only an owner can invite people to this organisation.")
    if not actor.is_email_verified:
        raise ValidationError(UNVERIFIED, code="unverified")


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce, "s": current_schema_name()}, salt=_SALT)


def _send(invitation: Invitation, *, base_url: str, organisation: str) -> None:
    link = base_url + reverse(
        "accounts:invitation_accept", args=[invitation_token(invitation)], urlconf=settings.ROOT_URLCONF
    )
    mail_queue(
        to=invitation.email,
        template="invitation",
        context={
            "invitation": invitation,
            "inviter": invitation.invited_by,
            "organisation": organisation,
            "link": link,
            "days": max(1, settings.INVITATION_MAX_AGE_S // 86_400),
        },
    )


def invitation_create(
    *,
    actor: User,
    email: str,
    role: str = User.Role.MEMBER,
    full_name: str = "",
    base_url: str,
    organisation: str,
) -> Invitation:
    """Invite `email` with `role`; the mail goes out on commit. An open invitation for the
    same address is replaced (its link stops working). Raises ValidationError (dict by field)."""
    _require_inviting_owner(actor)
    errors: dict[str, list[str]] = {}
    try:
        email = email_address_clean(email=email)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    full_name = (full_name or "").strip()
    if len(full_name) > 150:
        errors["full_name"] = ["Use at most 150 characters."]
    if role not in User.Role.values:
        errors["role"] = ["Choose owner or member."]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    try:
        return _invitation_replace(
            actor=actor,
            email=email,
            role=role,
            full_name=full_name,
            now=now,
            base_url=base_url,
            organisation=organisation,
        )
    except IntegrityError:  # another owner invited the same address at the same moment
        raise ValidationError({"email": ["This address was invited a moment ago."]}) from None


def _invitation_replace(
    *, actor: User, email: str, role: str, full_name: str, now: datetime, base_url: str, organisation: str
) -> Invitation:
    with transaction.atomic():
        Invitation.objects.filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        invitation = Invitation.objects.create(
            email=email,
            full_name=full_name,
            role=role,
            invited_by=actor,
            nonce=secrets.token_hex(16),
            created_at=now,
            sent_at=now,
            expires_at=now + timedelta(seconds=settings.INVITATION_MAX_AGE_S),
        )
        _send(invitation, base_url=base_url, organisation=organisation)
    return invitation


def invitation_resend(*, actor: User, invitation: Invitation, base_url: str, organisation: str) -> Invitation:
    """Mail a fresh link (new nonce, new expiry); the previous link stops working."""
    _require_inviting_owner(actor)
    with transaction.atomic():
        stored = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if stored.accepted_at is not None or stored.revoked_at is not None:
            raise ValidationError("This invitation was already accepted or revoked.", code="closed")
        now = timezone.now()
        stored.nonce = secrets.token_hex(16)
        stored.sent_at = now
        stored.expires_at = now + timedelta(seconds=settings.INVITATION_MAX_AGE_S)
        stored.save(update_fields=["nonce", "sent_at", "expires_at"])
        _send(stored, base_url=base_url, organisation=organisation)
    return stored


def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    """End an open invitation for good: its link is refused from now on."""
    if not (actor.is_active and actor.is_owner):
        raise PermissionDenied("Only an owner can revoke invitations.")
    with transaction.atomic():
        stored = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if stored.accepted_at is None and stored.revoked_at is None:
            stored.revoked_at = timezone.now()
            stored.save(update_fields=["revoked_at"])
    return stored


def invitation_from_token(token: str) -> Invitation:
    """The open invitation a link names; ValidationError when forged, expired, used or revoked."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.INVITATION_MAX_AGE_S)
    except signing.BadSignature:
        raise ValidationError(INVALID_LINK, code="invalid") from None
    if not isinstance(data, dict) or data.get("s") != current_schema_name():
        raise ValidationError(INVALID_LINK, code="invalid")
    invitation = Invitation.objects.filter(pk=int(data.get("i") or 0)).first()
    if invitation is None or not secrets.compare_digest(invitation.nonce, str(data.get("n"))):
        raise ValidationError(INVALID_LINK, code="invalid")
    if not invitation.is_open:
        raise ValidationError(INVALID_LINK, code="closed")
    return invitation


def invitation_accept(*, token: str, password: str, full_name: str = "") -> User:
    """Create the invited person with their own password and the invited role; the address is
    verified (they followed a link mailed to it). Works once per link."""
    invitation = invitation_from_token(token)
    full_name = (full_name or invitation.full_name or "").strip()[:150]
    try:
        validate_password(password or "", user=User(email=invitation.email, full_name=full_name))
    except ValidationError as exc:
        raise ValidationError({"password1": exc.messages}) from None
    with transaction.atomic():
        stored = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not stored.is_open or stored.nonce != invitation.nonce:
            raise ValidationError(INVALID_LINK, code="closed")
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    stored.email,
                    password,
                    full_name=full_name,
                    role=stored.role,
                    is_staff=stored.role == User.Role.OWNER,
                    email_verified_at=timezone.now(),
                )
        except IntegrityError:
            raise ValidationError(
                "Someone with this email is already in this organisation. Sign in instead.", code="taken"
            ) from None
        stored.accepted_at = timezone.now()
        stored.user = user
        stored.save(update_fields=["accepted_at", "user"])
        account_index_add(email=user.email)
        inviter = stored.invited_by
        audit_record(
            action=AuditAction.USER_ADDED,
            actor=actor_for_user(inviter or user),
            target=user,
            changes={"email": user.email, "role": user.role, "via": "invitation"},
        )
        tenant_id, user_id, role = usage_stats.current_tenant_id(), user.pk, user.role
        transaction.on_commit(
            lambda: usage_stats.record(
                "user.signed_up",
                tenant_id=tenant_id,
                user_id=user_id,
                properties={"role": role, "via": "invite"},
            )
        )
    return user
