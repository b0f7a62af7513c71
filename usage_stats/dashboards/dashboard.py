"""What a dashboard page shows, assembled from selectors and the panel builders
(dashboards/panels.py): cards, charts and tables. The staff dashboard (all tenants, or
one) and the tenant owner's page share it, and each table is also its CSV export, so the
two can never disagree."""

import dataclasses
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from usage_stats.rollups.rollup import RollupState
from usage_stats.rollups.sql import API_EVENT

from . import panels, readers, selectors
from .panels import Axis, Card, Chart, Table
from .periods import Period
from .selectors import Figures


@dataclass
class Dashboard:
    period: Period
    tenant_id: uuid.UUID | None
    totals: Figures
    cards: list[Card]
    charts: list[Chart]
    tables: dict[str, Table]
    rollup: RollupState
    notes: list[str]
    demo_events: int = 0  # made-up events in the stats database: the page says so


def _group(
    rows: list[selectors.EventRoute], key: Callable[[selectors.EventRoute], str]
) -> list[tuple[str, Figures]]:
    """Figures summed per key, most events first (ties by name)."""
    groups: dict[str, list[Figures]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row.figures)
    summed = [(name, selectors.figures_sum(values)) for name, values in groups.items()]
    return sorted(summed, key=lambda item: (-item[1].events, item[0]))


def dashboard_build(
    *,
    period: Period,
    tenant_id: uuid.UUID | None = None,
    tenant_link: Callable[[str], str] | None = None,
) -> Dashboard:
    """Every figure for `period`: all tenants when `tenant_id` is None (staff), else that
    tenant only. Cards, charts and tables keep the order the page shows them in. Each
    figure is read once: the cards are the sums of the chart's buckets, the events and
    routes tables two groupings of the same rows."""
    # Every read at once (dashboards/readers.py): the first, the short ones and the main
    # database's, in this thread; the others in the pool, the slowest first.
    reads: dict[str, Callable[[], Any]] = {
        "state": lambda: (
            selectors.usage_demo_events(),
            selectors.usage_rollup_status(),
            selectors.tenants_created(period=period) if tenant_id is None else [],
        ),
    }
    user_parts = selectors.active_users_parts(period=period) if tenant_id is None else 0
    for part in range(user_parts):  # staff: every tenant's users, a part per month
        reads[f"users.{part}"] = functools.partial(
            selectors.usage_active_users_by_tenant, period=period, part=part
        )
    if tenant_id is None:
        reads["by_tenant"] = lambda: selectors.usage_series_by_tenant(
            period=period, chart_tenants=panels.CHART_TENANTS
        )
    else:
        reads.update(
            daily_users=lambda: selectors.usage_active_users_series(period=period, tenant_id=tenant_id),
            active_users=lambda: selectors.usage_active_users(period=period, tenant_id=tenant_id),
        )
    reads.update(
        event_routes=lambda: selectors.usage_event_routes(period=period, tenant_id=tenant_id),
        series=lambda: selectors.usage_series(period=period, tenant_id=tenant_id),
    )
    got = readers.reads_together(reads)
    demo_events, rollup, created = got["state"]
    series: list[selectors.SeriesPoint] = got["series"]
    event_routes: list[selectors.EventRoute] = got["event_routes"]
    # The cards' latency percentiles from the events' histograms: the series reads none.
    totals = dataclasses.replace(
        selectors.figures_sum(point.figures for point in series),
        hist=selectors.figures_sum(row.figures for row in event_routes).hist,
    )
    events = _group(event_routes, lambda row: row.event)
    routes = _group([row for row in event_routes if row.figures.latency_count > 0], lambda row: row.route)
    axis = Axis.of(period)
    chart_list: list[Chart] = []
    tables: dict[str, Table] = {}
    requests_chart, series_table = panels.requests_panel(axis=axis, series=series)
    chart_list.append(requests_chart)
    if tenant_id is None:
        by_tenant: selectors.TenantSeries = got["by_tenant"]
        users: dict[uuid.UUID, int] = {}
        for part in range(user_parts):
            for tenant, count in got[f"users.{part}"].items():
                users[tenant] = users.get(tenant, 0) + count
        active_users = sum(users.values())
        top = by_tenant.top(panels.TOP_TENANTS)
        labels = selectors.tenant_labels(tenant_ids={*by_tenant.totals, *users})
        card, tenant_charts, tenant_tables = panels.tenants_panel(
            axis=axis,
            period=period,
            created=created,
            by_tenant=by_tenant.requests_chart(
                all_requests=[point.requests for point in series], label=lambda t: labels[t].text
            ),
            top=[(labels[t], figures) for t, figures in top],
            users={labels[t].text: count for t, count in users.items()},
            tenant_link=tenant_link,
        )
        extra_cards = [card]
        chart_list.extend(tenant_charts)
        tables.update((table.key, table) for table in tenant_tables)
    else:
        active_users = got["active_users"]
        daily_users = got["daily_users"]
        chart_list.append(
            panels.active_users_panel(axis=axis, daily_users=daily_users, series_table=series_table)
        )
        extra_cards = []
    cards = (
        panels.summary_cards(
            totals=totals,
            active_users=active_users,
            signups=panels.signups_count(events),
            api_calls=panels.events_count(events, API_EVENT),
        )
        + extra_cards
    )
    events_chart, events_table = panels.events_panel(events=events)
    routes_chart, routes_table = panels.routes_panel(routes=routes)
    chart_list.extend(chart for chart in (events_chart, routes_chart) if chart is not None)
    tables.update(events=events_table, routes=routes_table, series=series_table)
    notes = ["Percentiles are estimated from latency histograms with buckets about 41 % wide."]
    return Dashboard(
        period=period,
        tenant_id=tenant_id,
        totals=totals,
        cards=cards,
        charts=chart_list,
        tables=tables,
        rollup=rollup,
        notes=notes,
        demo_events=demo_events,
    )
