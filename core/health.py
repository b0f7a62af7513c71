"""`/healthz`: is this process able to serve? Checks both databases and the collector.

Cheap and unauthenticated, for load balancers and orchestrators. The body names the
failed part but never an error message (those go to the log).
"""

import logging
from typing import Literal

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse

from core import probes

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
    body = {"status": "fail" if failed else "ok", "failed": failed, "checks": checks}
    response = JsonResponse(body, status=503 if failed else 200)
    response["Cache-Control"] = "no-store"
    return response
