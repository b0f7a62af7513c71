"""Who acted: a person of a tenant, a staff member, a command-line run or the system itself."""

import getpass
from dataclasses import dataclass
from typing import Any

from core.tenancy import on_public_schema

from .actions import ActorKind


@dataclass(frozen=True)
class Actor:
    kind: str
    id: int | None = None
    email: str = ""


def actor_for_user(user: Any) -> Actor:
    """A signed-in user of the current schema: staff on the public schema, else owner or member.

    Typed loosely because audit sits below accounts and must not import its User model.
    """
    if on_public_schema():
        kind = ActorKind.STAFF
    else:
        kind = ActorKind.OWNER if getattr(user, "role", None) == "owner" else ActorKind.MEMBER
    return Actor(kind=kind, id=getattr(user, "pk", None), email=str(getattr(user, "email", "") or ""))


def actor_cli() -> Actor:
    """A management command; the OS user that ran it, when it can be told."""
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        os_user = ""
    return Actor(kind=ActorKind.CLI, email=os_user[:254])


def actor_system() -> Actor:
    """The platform acting on its own (sign-up, bulk provisioning)."""
    return Actor(kind=ActorKind.SYSTEM)
