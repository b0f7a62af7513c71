"""Writes for a tenant's people: profile, activation, roles, password-reset mails and API
tokens. Invitations are in accounts/invitations.py, address verification and changes in
accounts/verification.py.

Every function runs against the current schema, i.e. the tenant of the request. The
address -> organisation index (accounts/directory.py) follows every change of who can
sign in with which address.
"""

import hashlib
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.actions import AuditAction
from audit.actors import actor_for_user
from audit.services import audit_record

from .directory import account_index_add, account_index_remove
from .models import ApiToken, User
from .passwords import password_reset_send
from .verification import email_address_clean, email_verification_send

API_TOKEN_PREFIX = "th_"
API_TOKEN_NAME_MAX_LENGTH = 100
# A token's last_used_at is refreshed at most this often, so API reads stay reads.
API_TOKEN_TOUCH_INTERVAL_S = 60


def _require_owner(actor: User) -> None:
    if not (actor.is_active and actor.is_owner):
        raise PermissionDenied("Only an owner can manage the people of this organisation.")


def _audit(action: AuditAction, *, actor: User, target: User | ApiToken, changes: dict[str, Any]) -> None:
    """An audit record of the current tenant, in the caller's transaction."""
    audit_record(action=action, actor=actor_for_user(actor), target=target, changes=changes)


def user_update(
    *, actor: User, user: User, base_url: str, email: str | None = None, full_name: str | None = None
) -> User:
    """Change a person's name, or ask for a new address (None leaves it as it is).

    A new address does not take effect at once: it is kept as `pending_email` and a
    verification link is mailed to it (accounts/verification.py); `base_url` is the
    organisation's origin for that link."""
    _require_owner(actor)
    errors: dict[str, list[str]] = {}
    changes: dict[str, list[str]] = {}
    new_email = None
    if email is not None:
        try:
            new_email = email_address_clean(email=email, user=user)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            if new_email == user.email:
                new_email = None
            elif new_email != user.pending_email:
                changes["pending_email"] = [user.pending_email, new_email]
    if full_name is not None:
        full_name = full_name.strip()
        if len(full_name) > 150:
            errors["full_name"] = ["Use at most 150 characters."]
        if full_name != user.full_name:
            changes["full_name"] = [user.full_name, full_name]
    if errors:
        raise ValidationError(errors)
    if not changes:
        return user
    for name, (_before, after) in changes.items():
        setattr(user, name, after)
    with transaction.atomic():
        user.save(update_fields=list(changes))
        _audit(AuditAction.USER_UPDATED, actor=actor, target=user, changes=changes)
        if "pending_email" in changes:
            email_verification_send(user=user, base_url=base_url)
    return user


def user_password_reset_request(*, actor: User, user: User, base_url: str) -> None:
    """An owner's "reset this person's password": mails them a reset link (on commit). The
    owner never sees or chooses the password."""
    _require_owner(actor)
    if not user.is_active:
        raise ValidationError("Reactivate this person first.")
    password_reset_send(user=user, base_url=base_url, requested_by_owner=True)


def user_role_change(*, actor: User, user: User, role: str) -> User:
    """Make a person an owner or a member; staff status (the admin sign-in) follows the role.

    An owner cannot change their own role, so an organisation always keeps an owner.
    """
    _require_owner(actor)
    if role not in User.Role.values:
        raise ValidationError({"role": ["Choose owner or member."]})
    if user.pk == actor.pk:
        raise ValidationError({"role": ["You cannot change your own role."]})
    if user.role == role:
        return user
    before = user.role
    user.role = role
    user.is_staff = role == User.Role.OWNER
    with transaction.atomic():
        user.save(update_fields=["role", "is_staff"])
        _audit(AuditAction.USER_ROLE_CHANGED, actor=actor, target=user, changes={"role": [before, role]})
    return user


def user_deactivate(*, actor: User, user: User) -> User:
    """Stop a person from signing in or using their API tokens. Their tasks stay."""
    _require_owner(actor)
    if user.pk == actor.pk:
        raise ValidationError("You cannot deactivate yourself.")
    if user.is_active:
        user.is_active = False
        with transaction.atomic():
            user.save(update_fields=["is_active"])
            account_index_remove(email=user.email)
            _audit(
                AuditAction.USER_DEACTIVATED, actor=actor, target=user, changes={"is_active": [True, False]}
            )
    return user


def user_activate(*, actor: User, user: User) -> User:
    _require_owner(actor)
    if not user.is_active:
        user.is_active = True
        with transaction.atomic():
            user.save(update_fields=["is_active"])
            account_index_add(email=user.email)
            _audit(AuditAction.USER_ACTIVATED, actor=actor, target=user, changes={"is_active": [False, True]})
    return user


def _api_token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns it with the secret, which is never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the token a name, e.g. the script that uses it."]})
    if len(name) > API_TOKEN_NAME_MAX_LENGTH:
        raise ValidationError({"name": [f"Use at most {API_TOKEN_NAME_MAX_LENGTH} characters."]})
    if "\x00" in name:
        raise ValidationError({"name": ["Null characters are not allowed."]})
    raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], digest=_api_token_digest(raw))
    return token, raw


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token for good: its holder or an owner may; nothing ever clears revoked_at.

    The stored row decides (locked), not the instance passed in, so a form that cleared
    `revoked_at` on its copy cannot bring a revoked token back.
    """
    if token.user_id != actor.pk:
        _require_owner(actor)
    with transaction.atomic():
        stored = ApiToken.objects.select_for_update().get(pk=token.pk)
        if stored.revoked_at is None:
            stored.revoked_at = timezone.now()
            stored.save(update_fields=["revoked_at"])
            _audit(
                AuditAction.API_TOKEN_REVOKED,
                actor=actor,
                target=stored,
                changes={"user_id": stored.user_id, "prefix": stored.prefix},
            )
    token.revoked_at = stored.revoked_at
    return token


def api_token_authenticate(*, raw: str) -> User | None:
    """The active user owning the live token `raw` in the current schema, else None."""
    if not raw or not raw.startswith(API_TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_api_token_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > API_TOKEN_TOUCH_INTERVAL_S:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
