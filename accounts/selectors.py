"""Reads for a tenant's people and their API tokens (current schema only)."""

from django.db.models import Q, QuerySet

from .models import ApiToken, Invitation, User

MAX_DB_ID = 2**63 - 1


def user_list() -> QuerySet[User]:
    """Everyone in the organisation, owners first, active before inactive."""
    return User.objects.order_by("-is_active", "role", "email")


def user_assignable_list(*, also_id: int | None = None) -> QuerySet[User]:
    """People a task can be assigned to, plus `also_id` (a task's current, maybe
    deactivated, assignee, so an edit form can keep showing them)."""
    condition = Q(is_active=True)
    if also_id is not None:
        condition |= Q(pk=also_id)
    return User.objects.filter(condition).order_by("full_name", "email")


def user_get(*, user_id: int) -> User | None:
    if not 0 < user_id <= MAX_DB_ID:
        return None
    return User.objects.filter(pk=user_id).first()


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_get(*, user: User, token_id: int) -> ApiToken | None:
    """One of `user`'s own tokens; another person's token is reported as missing."""
    if not 0 < token_id <= MAX_DB_ID:
        return None
    return ApiToken.objects.filter(user=user, pk=token_id).first()


def invitation_pending_list() -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked (expired ones too: an owner may resend them)."""
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True).order_by("-sent_at")


def invitation_get(*, invitation_id: int) -> Invitation | None:
    if not 0 < invitation_id <= MAX_DB_ID:
        return None
    return Invitation.objects.filter(pk=invitation_id).first()
