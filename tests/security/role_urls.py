"""A tenant URL conf for the database-role tests: a view that runs raw SQL inside the
request, as a bug or an attacker's payload would, and reports what PostgreSQL answered."""

from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path

from saas.urls_tenants import handler400, handler403, handler404, handler500  # noqa: F401
from saas.urls_tenants import urlpatterns as tenant_urlpatterns

# Each probe: (search_path to force first inside the transaction, or None; the statement).
PROBES = {
    "whoami": (None, "SELECT current_user || ' ' || current_schema()"),
    "other_tenant": (None, "SELECT * FROM globex.tasks_app_task"),
    "public_tenants": (None, "SELECT * FROM public.tenants_client"),
    "public_domains": (None, "SELECT * FROM public.tenants_domain"),
    "public_failures": (None, "SELECT * FROM public.login_throttle_loginfailure"),
    "own_tasks": (None, "SELECT * FROM tasks_app_task"),
    # A routing bug: the connection's search_path left on globex.
    "left_on_globex": ("globex, public", "SELECT * FROM tasks_app_task"),
    "left_on_globex_users": ("globex", "SELECT * FROM accounts_user"),
}


def _probe(search_path: str | None, statement: str) -> dict:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # the backend states role and search_path here
            if search_path is not None:
                cursor.execute(f"SET LOCAL search_path = {search_path}")
            cursor.execute(statement)
            rows = cursor.fetchall()
    except DatabaseError as exc:
        cause = exc.__cause__
        return {"error": getattr(cause, "pgcode", None), "message": str(exc).splitlines()[0]}
    return {"rows": [list(map(str, row)) for row in rows]}


def probe(request: HttpRequest) -> JsonResponse:
    return JsonResponse({name: _probe(*spec) for name, spec in PROBES.items()})


urlpatterns = [path("db-probe/", probe), *tenant_urlpatterns]
