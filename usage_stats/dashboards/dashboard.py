"""What a dashboard page shows, assembled from selectors and the panel builders
(dashboards/panels.py): cards, charts and tables. The staff dashboard (all tenants, or
one) and the tenant owner's page share it, and each table is also its CSV export, so the
two can never disagree."""

from collections.abc import Callable
from dataclasses import dataclass

from usage_stats.rollups.rollup import RollupState

from . import panels, selectors
from .panels import Axis, Card, Chart, Table
from .periods import Period
from .selectors import Figures


@dataclass
class Dashboard:
    period: Period
    tenant: str | None
    totals: Figures
    cards: list[Card]
    charts: list[Chart]
    tables: dict[str, Table]
    rollup: RollupState
    notes: list[str]


def dashboard_build(
    *,
    period: Period,
    tenant: str | None = None,
    tenant_link: Callable[[str], str] | None = None,
) -> Dashboard:
    """Every figure for `period`: all tenants when `tenant` is None (staff), else that
    tenant only. Cards, charts and tables keep the order the page shows them in."""
    totals = selectors.usage_totals(period=period, tenant=tenant)
    series = selectors.usage_series(period=period, tenant=tenant)
    events = selectors.usage_events_by_type(period=period, tenant=tenant)
    routes = selectors.usage_latency_by_route(period=period, tenant=tenant)
    active_users = selectors.usage_active_users(period=period, tenant=tenant)
    axis = Axis.of(period)

    cards = panels.summary_cards(
        totals=totals, active_users=active_users, signups=panels.signups_count(events)
    )
    requests_chart, series_table = panels.requests_panel(axis=axis, series=series)
    chart_list = [requests_chart]
    tables: dict[str, Table] = {}
    if tenant is None:
        top = selectors.usage_top_tenants(period=period, limit=panels.TOP_TENANTS)
        card, tenant_charts, tenant_tables = panels.tenants_panel(
            axis=axis,
            period=period,
            created=selectors.tenants_created(period=period),
            by_tenant=selectors.usage_series_by_tenant(period=period, top=panels.CHART_TENANTS),
            top=top,
            users=selectors.usage_active_users_by_tenant(period=period, tenants=[name for name, _ in top]),
            tenant_link=tenant_link,
        )
        cards.append(card)
        chart_list.extend(tenant_charts)
        tables.update((table.key, table) for table in tenant_tables)
    else:
        daily_users = selectors.usage_active_users_series(period=period, tenant=tenant)
        chart_list.append(
            panels.active_users_panel(axis=axis, daily_users=daily_users, series_table=series_table)
        )
    events_chart, events_table = panels.events_panel(events=events)
    routes_chart, routes_table = panels.routes_panel(routes=routes)
    chart_list.extend(chart for chart in (events_chart, routes_chart) if chart is not None)
    tables.update(events=events_table, routes=routes_table, series=series_table)

    notes = []
    if not period.whole_hour_offsets:
        notes.append(
            f"{period.tz_name} is not a whole number of hours from UTC: figures are kept per UTC hour, "
            "so each local day starts at the UTC hour just before local midnight."
        )
    notes.append("Percentiles are estimated from latency histograms with buckets about 41 % wide.")
    return Dashboard(
        period=period,
        tenant=tenant,
        totals=totals,
        cards=cards,
        charts=chart_list,
        tables=tables,
        rollup=selectors.usage_rollup_status(),
        notes=notes,
    )
