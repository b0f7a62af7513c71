"""Test tiers: each test gets one pytest marker saying what it needs to run.

tests/conftest.py assigns them at collection (`pytest_collection_modifyitems`), so test
files need not: a marker set on the test (or its module or class) wins; otherwise the
most demanding helper the test or one of its fixtures reaches decides (a helper declares
its tier with `@needs_tier(...)`), then a database fixture or `django_db` mark gives `db`,
and anything else is `unit`.
"""

import inspect
import types
from collections.abc import Callable, Iterable, Iterator
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


# Fixtures from plugins that start something, by name.
FIXTURE_TIERS = {"live_server": "live"}
# (Not django_db_blocker: a pytest-django autouse fixture asks for it in every test.)
DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_setup"})


def inferred_tier(item) -> str:
    """The tier of a test that sets none: the most demanding tier declared by a helper the
    test or one of its fixtures reaches; else `db` if it has a database fixture or a
    `django_db` mark; else `unit`."""
    reached: set[str] = set()
    seen: set[types.CodeType] = set()
    if callable(getattr(item, "obj", None)):
        reached |= helper_tiers(item.obj, seen)
    fixturenames = set(getattr(item, "fixturenames", ()))
    info = getattr(item, "_fixtureinfo", None)
    for name in fixturenames:
        if name in FIXTURE_TIERS:
            reached.add(FIXTURE_TIERS[name])
        for fixturedef in info.name2fixturedefs.get(name, ()) if info else ():
            reached |= helper_tiers(fixturedef.func, seen)
    tier = most_demanding(reached)
    if tier:
        return tier
    if item.get_closest_marker("django_db") or DB_FIXTURES & fixturenames:
        return "db"
    return "unit"


def helper_tiers(func, seen: set[types.CodeType] | None = None) -> set[str]:
    """Tiers declared by the objects `func`'s code names as globals (nested functions and
    lambdas included), following the functions of tests/ transitively."""
    seen = set() if seen is None else seen
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    if code is None or code in seen:
        return set()
    seen.add(code)
    found: set[str] = set()
    for name in _code_names(code):
        obj = func.__globals__.get(name)
        tier = getattr(obj, TIER_ATTRIBUTE, None)
        if tier:
            found.add(tier)
        elif isinstance(obj, types.FunctionType) and obj.__module__.startswith("tests."):
            found |= helper_tiers(obj, seen)
    return found


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)
