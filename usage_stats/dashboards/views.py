"""Usage dashboards: staff (all tenants, or one) in the admin on the base domain, and a
tenant owner's own usage at /usage/ on the tenant's host. Thin: parse the range, build
the figures (dashboards/dashboard.py), render them or export a table as CSV.

The tenant page takes its tenant from the host (request.tenant, read by its uuid) and nothing else: no
parameter can name another tenant.
"""

import csv
import json
import uuid
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from core.tenancy import on_public_schema

from . import selectors
from .dashboard import Dashboard, dashboard_build
from .forms import EXPORT_RAW, DashboardFilterForm
from .periods import timezone_names

RAW_COLUMNS = [
    "occurred_at",
    "event_id",
    "user_id",
    "event",
    "route",
    "method",
    "status",
    "latency_ms",
    "tokens",
    "properties",
]
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value  # spreadsheets must not run a cell as a formula
    return value


def _filename(scope: str, key: str, form: DashboardFilterForm) -> str:
    period = form.period
    local_start = period.start.astimezone(period.tz)
    local_end = period.end.astimezone(period.tz)
    return f"usage-{scope}-{key}-{local_start:%Y%m%d%H}-{local_end:%Y%m%d%H}.csv"


def _table_csv(dashboard: Dashboard, key: str, filename: str) -> HttpResponse:
    table = dashboard.tables[key]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(value) for value in row])
    return response


def _raw_csv(*, tenant_id: uuid.UUID, form: DashboardFilterForm, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(RAW_COLUMNS)
        # Rows come in RAW_COLUMNS order: occurred_at first, properties last.
        for occurred_at, *middle, props in selectors.usage_events_export(
            tenant_id=tenant_id, period=form.period
        ):
            if props is not None and not isinstance(props, str):
                props = json.dumps(props, separators=(",", ":"), sort_keys=True)
            cells = [occurred_at.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat(), *middle, props]
            yield writer.writerow([_cell(value) for value in cells])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _dashboard_response(
    request: HttpRequest,
    *,
    template: str,
    tenant: Any,
    context: dict[str, Any],
    tenant_link: Callable[[str], str] | None = None,
) -> HttpResponseBase:
    form = DashboardFilterForm(request.GET)
    context = {**context, "form": form, "timezones": timezone_names(), "tenant": tenant}
    if not form.is_valid():
        return render(request, template, context, status=400)
    export = form.cleaned_data.get("export") or ""
    scope = tenant.slug if tenant is not None else "all-tenants"
    tenant_id = tenant.uuid if tenant is not None else None
    if export == EXPORT_RAW:
        if tenant_id is None:
            context["export_error"] = "Raw events are exported one tenant at a time: open a tenant first."
            return render(request, template, context, status=400)
        return _raw_csv(tenant_id=tenant_id, form=form, filename=_filename(scope, "events-raw", form))
    dashboard = dashboard_build(period=form.period, tenant_id=tenant_id, tenant_link=tenant_link)
    if export:
        if export not in dashboard.tables:
            context["export_error"] = f"There is no table called {export!r} to export."
            return render(request, template, context, status=400)
        return _table_csv(dashboard, export, _filename(scope, export, form))
    context.update(dashboard=dashboard, query=form.query(), raw_export=tenant is not None)
    return render(request, template, context)


# --- Tenant owners -----------------------------------------------------------------


@login_required
def tenant_usage(request: HttpRequest) -> HttpResponseBase:
    """This tenant's usage, for its owners."""
    if not getattr(request.user, "is_owner", False):
        raise PermissionDenied("Only owners can see usage.")
    tenant = request.tenant  # type: ignore[attr-defined]  # django-tenants' middleware sets it
    return _dashboard_response(
        request,
        template="usage_stats/tenant_usage.html",
        tenant=tenant,
        context={},
    )


# --- Staff (Django admin on the base domain) -------------------------------------------


def _staff_only_on_public() -> None:
    if not on_public_schema():
        raise Http404


def staff_usage(request: HttpRequest) -> HttpResponseBase:
    """Every tenant's usage. Wrapped by admin_view (staff sign-in) in usage_stats/admin.py."""
    _staff_only_on_public()
    return _dashboard_response(
        request,
        template="usage_stats/admin_usage.html",
        tenant=None,
        context={**admin.site.each_context(request), "title": "Usage"},
        tenant_link=lambda name: reverse("admin:usage_tenant", args=[name]),
    )


def staff_tenant_usage(request: HttpRequest, tenant: str) -> HttpResponseBase:
    """One tenant's usage (drill-down from the staff dashboard)."""
    _staff_only_on_public()
    client = selectors.tenant_by_slug(slug=tenant)
    if client is None:
        raise Http404("No such tenant.")
    return _dashboard_response(
        request,
        template="usage_stats/admin_usage.html",
        tenant=client,
        context={**admin.site.each_context(request), "title": f"Usage of {client.slug}"},
    )
