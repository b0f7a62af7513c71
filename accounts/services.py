"""Writes for a tenant's people: invitations, activation, roles and API tokens.

Every function runs against the current schema, i.e. the tenant of the request.
"""

import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

import usage_stats

from .models import ApiToken, User

API_TOKEN_PREFIX = "th_"
API_TOKEN_NAME_MAX_LENGTH = 100
# A token's last_used_at is refreshed at most this often, so API reads stay reads.
API_TOKEN_TOUCH_INTERVAL_S = 60


def _require_owner(actor: User) -> None:
    if not (actor.is_active and actor.is_owner):
        raise PermissionDenied("Only an owner can manage the people of this organisation.")


def user_invite(
    *,
    actor: User,
    email: str,
    password: str,
    full_name: str = "",
    role: str = User.Role.MEMBER,
) -> User:
    """Add a person to the actor's organisation with an initial password.

    Raises PermissionDenied unless the actor is an owner, and ValidationError
    (a dict keyed by field) on bad input.
    """
    _require_owner(actor)
    errors: dict[str, list[str]] = {}
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid email address."]
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = ["Someone with this email is already in this organisation."]
    full_name = (full_name or "").strip()
    if len(full_name) > 150:
        errors["full_name"] = ["Use at most 150 characters."]
    if role not in User.Role.values:
        errors["role"] = ["Choose owner or member."]
    try:
        validate_password(password or "", user=User(email=email, full_name=full_name))
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            password,
            full_name=full_name,
            role=role,
            # Staff status opens the tenant admin login form; owners get it.
            is_staff=role == User.Role.OWNER,
        )
        tenant, user_id = connection.schema_name, user.pk
        transaction.on_commit(
            lambda: usage_stats.record(
                "user.signed_up", tenant=tenant, user_id=user_id, properties={"role": role, "via": "invite"}
            )
        )
    return user


def user_deactivate(*, actor: User, user: User) -> User:
    """Stop a person from signing in or using their API tokens. Their tasks stay."""
    _require_owner(actor)
    if user.pk == actor.pk:
        raise ValidationError("You cannot deactivate yourself.")
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return user


def user_activate(*, actor: User, user: User) -> User:
    _require_owner(actor)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
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


def api_token_revoke(*, user: User, token: ApiToken) -> ApiToken:
    if token.user_id != user.pk:
        raise PermissionDenied("This token belongs to someone else.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
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
