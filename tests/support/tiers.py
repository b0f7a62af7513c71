"""Test tiers: each test gets one pytest marker saying what it needs to run.

tests/conftest.py assigns them at collection (`pytest_collection_modifyitems`), so test
files need not: a marker set on the test (or its module or class) wins; otherwise the
most demanding helper the test or one of its fixtures reaches decides (a helper declares
its tier with `@needs_tier(...)`), then a database fixture or `django_db` mark gives `db`,
and anything else is `unit`.
"""

from collections.abc import Callable, Iterable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

# Most demanding first: a test that reaches several helpers gets the first tier listed.
TIERS = {
    "soak": "long load and fault tests; `make soak` runs them (`-m soak`)",
    "browser": "drives Debian's Chromium through Playwright against a live server",
    "pgbouncer": "runs through a real PgBouncer in transaction mode",
    "citus": "needs a Citus cluster",
    "redis": "needs a Redis server",
    "smtp": "needs an SMTP server",
    "live": "starts a real HTTP server (in-process WSGI server or gunicorn)",
    "db": "uses the test database, in-process",
    "unit": "no database, no server: plain Python",
}
TIER_ATTRIBUTE = "pytest_tier"


def needs_tier(tier: str) -> Callable[[F], F]:
    """Declare that a helper (function or context manager) puts its caller in `tier`."""
    assert tier in TIERS, tier

    def mark(func: F) -> F:
        setattr(func, TIER_ATTRIBUTE, tier)
        return func

    return mark


def most_demanding(tiers: Iterable[str]) -> str | None:
    given = set(tiers)
    return next((tier for tier in TIERS if tier in given), None)
