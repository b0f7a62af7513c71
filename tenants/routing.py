"""Host -> tenant routing table, held in process memory, so routing costs no query.

Each process keeps the whole Domain table (host -> tenant fields) as one dict, loaded in
one query. A request looks its host up in the dict: a known host gives its tenant, an
unknown one gives None at once, so a flood of random subdomains is answered from memory
(the table is also the negative cache) and cannot reach the database.

Freshness, which is the documented bound:
- in the process that changes a Client or Domain, the table is dropped by the model
  signals at once and again when the transaction commits;
- every other process reloads its table when it is older than TENANT_CACHE_TTL_S
  (default 5 s), so a domain change, a new tenant or a suspension is seen everywhere
  within that many seconds, and at the latest on the first request after that.

With TENANT_CACHE_URL set, reloads read a shared copy kept in that cache under a version
key instead of querying the database; a change bumps the version after commit, so a copy
made from the old state is never read again. A table read inside a transaction (tests,
or code that routes inside an atomic block) is used for that lookup only and never kept,
since it may hold rows that are later rolled back.

At 1,000 tenants a reload takes a few milliseconds once per TTL per process; the table
costs about 1 KB per domain.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import DEFAULT_DB_ALIAS, connection, transaction

from .hosts import host_normalise
from .models import Client, Domain

VERSION_KEY = "tenants:routes:version"
# The shared copy outlives the TTL a little, so processes refreshing at different moments
# still find it; it is keyed by version, so a stale one is never read.
SHARED_TIMEOUT_S = 300

_FIELD_NAMES = tuple(f.attname for f in Client._meta.concrete_fields)
_SUSPENDED_INDEX = _FIELD_NAMES.index("suspended_at")


@dataclass(frozen=True, slots=True)
class Route:
    """What a host routes to: the tenant's field values, shared by all its domains."""

    values: tuple

    @property
    def is_suspended(self) -> bool:
        return self.values[_SUSPENDED_INDEX] is not None

    def tenant(self) -> Client:
        """A fresh Client instance per request (no query), so no request sees another's changes."""
        return Client.from_db(DEFAULT_DB_ALIAS, _FIELD_NAMES, self.values)


RouteTable = dict[str, Route]


def routes_load_from_db() -> RouteTable:
    """Every domain and its tenant, in one query."""
    fields = [f"tenant__{name}" for name in _FIELD_NAMES]
    by_tenant: dict[object, Route] = {}
    table: RouteTable = {}
    for domain, *values in Domain.objects.values_list("domain", *fields).order_by():
        route = by_tenant.get(values[0])
        if route is None:
            route = by_tenant[values[0]] = Route(values=tuple(values))
        host = host_normalise(domain)
        if host is not None:  # a row no request host could ever match is left out
            table[host] = route
    return table


class RouteCache:
    """The process's routing table, refreshed after `ttl_s` or when told it changed."""

    def __init__(
        self, *, ttl_s: float, shared_alias: str | None, clock: Callable[[], float] = time.monotonic
    ):
        self.ttl_s = ttl_s
        self.shared_alias = shared_alias
        self.clock = clock
        self.loads_from_db = 0
        self._table: RouteTable | None = None
        self._loaded_at = 0.0
        self._generation = 0
        self._lock = threading.Lock()

    def lookup(self, host: str) -> Route | None:
        table = self._table
        if table is None or self.clock() - self._loaded_at >= self.ttl_s:
            table = self._refresh()
        return table.get(host)

    def invalidate(self) -> None:
        """Forget the table in this process; the next lookup reloads it."""
        with self._lock:
            self._generation += 1
            self._table = None

    def changed(self) -> None:
        """A Client or Domain changed: forget the table now, and again (plus the shared copy) on commit."""
        self.invalidate()
        transaction.on_commit(self._changed_committed)

    def _changed_committed(self) -> None:
        self.invalidate()
        shared = self._shared()
        if shared is not None:
            try:
                shared.incr(VERSION_KEY)
            except ValueError:  # no version yet: any new value retires every old copy
                shared.set(VERSION_KEY, time.time_ns(), timeout=None)

    def _refresh(self) -> RouteTable:
        in_transaction = connection.in_atomic_block
        with self._lock:
            if self._table is not None and self.clock() - self._loaded_at < self.ttl_s:
                return self._table
            generation = self._generation
        if in_transaction:
            return routes_load_from_db()
        started = self.clock()
        table = self._load_shared_or_db()
        with self._lock:
            # A change signalled while loading may not be in what was read: do not keep it.
            if generation == self._generation:
                self._table, self._loaded_at = table, started
        return table

    def _load_shared_or_db(self) -> RouteTable:
        shared = self._shared()
        if shared is None:
            self.loads_from_db += 1
            return routes_load_from_db()
        version = shared.get(VERSION_KEY)
        if version is None:
            shared.add(VERSION_KEY, time.time_ns(), timeout=None)
            version = shared.get(VERSION_KEY)
        key = f"tenants:routes:{version}"
        table = shared.get(key)
        if table is None:
            self.loads_from_db += 1
            table = routes_load_from_db()
            shared.set(key, table, timeout=SHARED_TIMEOUT_S)
        return table

    def _shared(self) -> BaseCache | None:
        return caches[self.shared_alias] if self.shared_alias else None


route_cache = RouteCache(ttl_s=settings.TENANT_CACHE_TTL_S, shared_alias=settings.TENANT_CACHE_ALIAS)


def routes_changed(**_kwargs: object) -> None:
    """Signal receiver for Client and Domain saves and deletes."""
    route_cache.changed()
