"""Host -> tenant routing table, held in process memory, so routing costs no query.

Each process keeps the whole Domain table (host -> tenant fields) as one dict, loaded in
one query. A request looks its host up in the dict: a known host gives its tenant (every
concrete Client field, `uuid` included, so `request.tenant` and `connection.tenant` carry
the stable id), an unknown one gives None.

Freshness. Every change of who owns which host or whether it may be used (a new tenant, a
domain added or removed, a change of subdomain, a suspension, a deletion, a restore, a
reactivation, a purge) saves or deletes a Client or Domain; the model signals then drop the
table in that process at once, and after commit bump the routing version, a sequence in
the public schema (`tenants_routes_version`: bumping takes no lock, reading it is one
index-free query of one row). Every process compares the version it loaded its table at:

- at most once per TENANT_ROUTES_CHECK_S (default 0.7 s), on the first request after that
  interval, so a change is enforced by every process for every request that starts more
  than TENANT_ROUTES_CHECK_S after the change committed (plus the reload, a few ms). **The
  documented bound is 1 s** with the default; a process that serves no requests makes no
  queries, and its first request checks;
- and when a host is missing from the table, before answering 404: a host that was just
  created (the redirect after a sign-up, reaching another worker) is then found at once.
  Such a check that finds the version unchanged (a typo, a random subdomain) spends a
  token of a bucket refilled at ROUTES_MISS_CHECKS_PER_S (0.5 a second); a check that
  finds a change is refunded, and any check that finds no change restarts the periodic
  interval. So a flood of random hosts costs about 1.5 queries a second per
  process in all (the periodic checks included; `make bench` measures it) and a fresh
  tenant's first request is never a 404 while nobody floods; during a flood, a new
  tenant is found within the periodic bound instead.

The whole table is also reloaded when older than TENANT_CACHE_TTL_S (60 s), a backstop
for a bump lost between a commit and its hook (a process killed at that moment).

With TENANT_CACHE_URL set, a reload reads a shared copy kept in that cache under the
version it was read at, instead of querying the Domain table; a change bumps the version,
so a copy made from the old state is never read again. A table read inside a transaction
(tests, or code that routes inside an atomic block) is used for that lookup only and never
kept, since it may hold rows that are later rolled back.

At 1,000 tenants a reload takes a few milliseconds; the table costs about 1 KB per domain.
"""

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import DEFAULT_DB_ALIAS, connection, transaction

from .hosts import host_normalise
from .models import Client, Domain

VERSION_SEQUENCE = "tenants_routes_version"
# The shared copy outlives the TTL a little, so processes refreshing at different moments
# still find it; it is keyed by version, so a stale one is never read.
SHARED_TIMEOUT_S = 300
# Checks of the version that find no change, made because a host was missing.
ROUTES_MISS_CHECKS_PER_S = 0.5

_FIELD_NAMES = tuple(f.attname for f in Client._meta.concrete_fields)
_SUSPENDED_INDEX = _FIELD_NAMES.index("suspended_at")
_DELETED_INDEX = _FIELD_NAMES.index("deleted_at")


@dataclass(frozen=True, slots=True)
class Route:
    """What a host routes to: the tenant's field values (shared by all its domains) and,
    for an old host kept after a change of subdomain, where it redirects and until when."""

    values: tuple
    redirect_to: str | None = None
    redirect_until: dt.datetime | None = None

    @property
    def is_suspended(self) -> bool:
        """Suspended or deleted (in its grace period): the hosts answer the suspended page."""
        return self.values[_SUSPENDED_INDEX] is not None or self.values[_DELETED_INDEX] is not None

    def tenant(self) -> Client:
        """A fresh Client instance per request (no query), so no request sees another's changes."""
        return Client.from_db(DEFAULT_DB_ALIAS, _FIELD_NAMES, self.values)


RouteTable = dict[str, Route]


def routes_load_from_db() -> RouteTable:
    """Every domain and its tenant, in one query."""
    fields = [f"tenant__{name}" for name in _FIELD_NAMES]
    rows = Domain.objects.values_list("domain", "is_primary", "redirect_until", *fields).order_by()
    by_tenant: dict[object, Route] = {}
    primary_of: dict[object, str] = {}
    redirects: list[tuple[str, object, dt.datetime]] = []
    table: RouteTable = {}
    for domain, is_primary, redirect_until, *values in rows:
        route = by_tenant.get(values[0])
        if route is None:
            route = by_tenant[values[0]] = Route(values=tuple(values))
        host = host_normalise(domain)
        if host is None:  # a row no request host could ever match is left out
            continue
        if is_primary:
            primary_of[values[0]] = host
        if redirect_until is not None:
            redirects.append((host, values[0], redirect_until))
        else:
            table[host] = route
    for host, tenant_id, until in redirects:
        target = primary_of.get(tenant_id)
        if target is not None:
            table[host] = Route(values=by_tenant[tenant_id].values, redirect_to=target, redirect_until=until)
    return table


_VERSION_READ_SQL = (
    f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END "  # noqa: S608 (constant names)
    f"FROM {settings.PUBLIC_SCHEMA_NAME}.{VERSION_SEQUENCE}"
)


def routes_version_read() -> int:
    """The routing version: 0 before the first change, then one more per committed change.

    One round trip on the raw connection: the name is schema-qualified, so django-tenants'
    `SET search_path` (which would double the cost) is not needed.
    """
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    # Errors as Django's own (an outage is then a 503 like any other query's).
    with connection.wrap_database_errors, raw.cursor() as cursor:
        cursor.execute(_VERSION_READ_SQL)
        return int(cursor.fetchone()[0])


def routes_version_bump() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [f"{settings.PUBLIC_SCHEMA_NAME}.{VERSION_SEQUENCE}"])


class RouteCache:
    """The process's routing table, checked against the routing version (module docstring)."""

    def __init__(
        self,
        *,
        ttl_s: float,
        check_interval_s: float,
        shared_alias: str | None,
        miss_checks_per_s: float = ROUTES_MISS_CHECKS_PER_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl_s = ttl_s
        self.check_interval_s = check_interval_s
        self.shared_alias = shared_alias
        self.miss_checks_per_s = miss_checks_per_s
        self.clock = clock
        # Counters, read by tests and `make bench`.
        self.loads_from_db = 0
        self.version_reads = 0
        self._table: RouteTable | None = None
        self._version: int | None = None
        self._loaded_at = 0.0
        self._checked_at = 0.0
        self._miss_tokens = 1.0
        self._miss_tokens_at = clock()
        self._generation = 0
        self._lock = threading.Lock()

    def lookup(self, host: str) -> Route | None:
        now = self.clock()
        table = self._table
        stale = table is None or now - self._loaded_at >= self.ttl_s
        due = stale or now - self._checked_at >= self.check_interval_s
        if connection.in_atomic_block:
            # Whatever is read here may be rolled back: use it for this lookup only.
            if table is None or due or (host not in table and self._miss_token_take(now)):
                return routes_load_from_db().get(host)
            return table.get(host)
        if table is None or stale:
            table = self._reload()
        elif due:
            table, _changed = self._check()
        route = table.get(host)
        # A host about to be refused (unknown, or closed: suspended or deleted) is checked
        # once more, rate-limited: a purged subdomain signed up again is open at once.
        if (route is None or route.is_suspended) and not due and self._miss_token_take(now):
            table, changed = self._check()
            if changed:
                self._miss_token_refund()
            route = table.get(host)
        return route

    def invalidate(self) -> None:
        """Forget the table in this process; the next lookup reloads it."""
        with self._lock:
            self._generation += 1
            self._table = None

    def changed(self) -> None:
        """A Client or Domain changed: forget the table now, and on commit again and bump the version."""
        self.invalidate()
        transaction.on_commit(self._changed_committed)

    def _changed_committed(self) -> None:
        self.invalidate()
        routes_version_bump()

    def _miss_token_take(self, now: float) -> bool:
        with self._lock:
            elapsed = max(now - self._miss_tokens_at, 0.0)
            self._miss_tokens = min(1.0, self._miss_tokens + elapsed * self.miss_checks_per_s)
            self._miss_tokens_at = now
            if self._miss_tokens < 1.0:
                return False
            self._miss_tokens -= 1.0
            return True

    def _miss_token_refund(self) -> None:
        with self._lock:
            self._miss_tokens = min(1.0, self._miss_tokens + 1.0)

    def _check(self) -> tuple[RouteTable, bool]:
        """Read the version; reload the table if it moved. Returns (table, whether it moved)."""
        with self._lock:
            generation = self._generation
            table, known = self._table, self._version
        started = self.clock()
        self.version_reads += 1
        version = routes_version_read()
        if table is not None and version == known:
            with self._lock:
                if generation == self._generation:
                    self._checked_at = started
            return table, False
        return self._reload(version=version, generation=generation, started=started), True

    def _reload(
        self, *, version: int | None = None, generation: int | None = None, started: float | None = None
    ) -> RouteTable:
        if generation is None:
            with self._lock:
                generation = self._generation
        if started is None:
            started = self.clock()
        if version is None:
            self.version_reads += 1
            version = routes_version_read()  # before the table: a later change moves it again
        table = self._load(version)
        with self._lock:
            # A change signalled while loading may not be in what was read: do not keep it.
            if generation == self._generation:
                self._table, self._version = table, version
                self._loaded_at = self._checked_at = started
        return table

    def _load(self, version: int) -> RouteTable:
        shared = self._shared()
        if shared is None:
            self.loads_from_db += 1
            return routes_load_from_db()
        key = f"tenants:routes:{version}"
        table = shared.get(key)
        if table is None:
            self.loads_from_db += 1
            table = routes_load_from_db()
            shared.set(key, table, timeout=SHARED_TIMEOUT_S)
        return table

    def _shared(self) -> BaseCache | None:
        return caches[self.shared_alias] if self.shared_alias else None


route_cache = RouteCache(
    ttl_s=settings.TENANT_CACHE_TTL_S,
    check_interval_s=settings.TENANT_ROUTES_CHECK_S,
    shared_alias=settings.TENANT_CACHE_ALIAS,
)


def routes_changed(**_kwargs: object) -> None:
    """Signal receiver for Client and Domain saves and deletes."""
    route_cache.changed()
