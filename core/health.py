"""`/healthz`: is this process able to serve? Checks both databases and the collector.

Cheap and unauthenticated, for load balancers and orchestrators. The body names the
failed part but never an error message (those go to the log).

It also reports the background-job system (`jobs`: Redis and a worker heartbeat). Those
never fail the check: requests are served without Redis (jobs wait in the outbox), so a
load balancer must not take web servers out for it; they are listed under `degraded`.
"""

import logging
from typing import Literal

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse

from core import probes
from core.jobs import jobs_health

logger = logging.getLogger(__name__)

CheckState = Literal["ok", "fail", "disabled"]
HEALTHZ_PATHS = frozenset({"/healthz", "/healthz/"})


def database_check(*, alias: str) -> CheckState:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("healthz: database %s is unavailable", alias, exc_info=True)
        # Do not keep a broken connection for the next request of this thread.
        connections[alias].close_if_unusable_or_obsolete()
        return "fail"
    return "ok"


def collector_check() -> CheckState:
    """ "fail" only when the collector is enabled and its thread is dead (or broken)."""
    state = probes.collector_snapshot()
    if state is None:
        return "fail"
    if not state.get("enabled", True):
        return "disabled"
    return "ok" if state.get("alive") else "fail"


def health_report() -> dict[str, CheckState]:
    return {
        "database": database_check(alias=settings.DEFAULT_DB_ALIAS),
        "stats_database": database_check(alias=settings.STATS_DB_ALIAS),
        "collector": collector_check(),
    }


def healthz(request: HttpRequest) -> JsonResponse:
    checks = health_report()
    failed = sorted(name for name, state in checks.items() if state == "fail")
    jobs = jobs_health()
    degraded = sorted(f"jobs.{name}" for name, state in jobs.items() if state == "fail")
    body = {
        "status": "fail" if failed else "ok",
        "failed": failed,
        "degraded": degraded,
        "checks": checks,
        "jobs": jobs,
    }
    response = JsonResponse(body, status=503 if failed else 200)
    response["Cache-Control"] = "no-store"
    return response
