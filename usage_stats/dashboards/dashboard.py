"""What a dashboard page shows, assembled from selectors: cards, charts and tables. The
staff dashboard (all tenants, or one) and the tenant owner's page share it, and each
table is also its CSV export, so the two can never disagree."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.safestring import SafeString

from usage_stats.rollups.rollup import RollupState

from . import charts, selectors
from .charts import NO_VALUE
from .periods import Period
from .selectors import Figures

TOP_TENANTS = 20
CHART_TENANTS = 5


@dataclass
class Table:
    key: str  # the `export` parameter that downloads it as CSV
    title: str
    columns: list[str]
    collapsed: bool = False  # long tables start folded away
    rows: list[list] = field(default_factory=list)  # str, int, float (already rounded) or None
    links: list[str | None] = field(default_factory=list)  # an optional link for each row's first cell

    @property
    def linked_rows(self) -> list[tuple[str | None, list]]:
        return [(self.links[i] if i < len(self.links) else None, row) for i, row in enumerate(self.rows)]


@dataclass
class Dashboard:
    period: Period
    tenant: str | None
    totals: Figures
    cards: list[tuple[str, str]]
    charts: list[tuple[str, SafeString]]
    tables: dict[str, Table]
    rollup: RollupState
    notes: list[str]


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 2)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


SIGNUP_EVENT = "user.signed_up"


def dashboard_build(
    *,
    period: Period,
    tenant: str | None = None,
    tenant_link: Callable[[str], str] | None = None,
) -> Dashboard:
    """Every figure for `period`: all tenants when `tenant` is None (staff), else that
    tenant only. Signups are `user.signed_up` events, so they come from rollups too."""
    totals = selectors.usage_totals(period=period, tenant=tenant)
    series = selectors.usage_series(period=period, tenant=tenant)
    events = selectors.usage_events_by_type(period=period, tenant=tenant)
    routes = selectors.usage_latency_by_route(period=period, tenant=tenant)
    active_users = selectors.usage_active_users(period=period, tenant=tenant)
    signups = sum(figures.events for name, figures in events if name == SIGNUP_EVENT)
    labels = [period.bucket_label(i) for i in range(len(period.edges))]
    ticks = [period.tick_label(i) for i in range(len(period.edges))]
    per = "hour" if period.bucket == "hour" else "day"

    cards = [
        ("Requests", charts.number(totals.requests)),
        ("Events", charts.number(totals.events)),
        ("Errors", charts.number(totals.errors)),
        ("Error rate", NO_VALUE if totals.error_rate is None else f"{totals.error_rate * 100:.2f} %"),
        ("Tokens", charts.number(totals.tokens)),
        ("Latency p50", _ms_text(totals.latency_percentile_ms(0.5))),
        ("Latency p95", _ms_text(totals.latency_percentile_ms(0.95))),
        ("Active users", charts.number(active_users)),
        ("Signups", charts.number(signups)),
    ]
    chart_list = [
        (
            f"Requests per {per}",
            charts.bar_chart(
                title=f"Requests and errors per {per} ({period.tz_name})",
                labels=labels,
                ticks=ticks,
                values=[p.requests for p in series],
                overlay=[p.errors for p in series],
                name="requests",
                overlay_name="errors (all events)",
                y_label=f"requests per {per}",
                hover=lambda i: (
                    f"{labels[i]} · {charts.number(series[i].requests)} requests · "
                    f"{charts.number(series[i].errors)} errors · {charts.number(series[i].events)} events"
                ),
            ),
        )
    ]
    tables: dict[str, Table] = {}
    series_table = Table(
        "series",
        f"Per {per} ({period.tz_name})",
        [per, "requests", "events", "errors"],
        collapsed=len(labels) > 10,
    )
    for label, point in zip(labels, series, strict=True):
        series_table.rows.append([label, point.requests, point.events, point.errors])
    notes = []

    if tenant is None:
        created = selectors.tenants_created(period=period)
        cards.append(("Tenants created", charts.number(len(created))))
        by_tenant = selectors.usage_series_by_tenant(period=period, top=CHART_TENANTS)
        if by_tenant:
            chart_list.append(
                (
                    f"Requests per {per} by tenant",
                    charts.line_chart(
                        title=f"Requests per {per} for the {CHART_TENANTS} busiest tenants",
                        labels=labels,
                        ticks=ticks,
                        series=by_tenant,
                        y_label=f"requests per {per}",
                        unit="requests",
                    ),
                )
            )
        top = selectors.usage_top_tenants(period=period, limit=TOP_TENANTS)
        users = selectors.usage_active_users_by_tenant(period=period, tenants=[name for name, _ in top])
        table = Table(
            "tenants",
            f"Top {TOP_TENANTS} tenants by events",
            ["tenant", "requests", "events", "errors", "error rate %", "tokens", "avg ms", "active users"],
        )
        for name, fig in top:
            table.rows.append(
                [
                    name,
                    fig.requests,
                    fig.events,
                    fig.errors,
                    _pct(fig.error_rate),
                    fig.tokens,
                    _ms(fig.latency_avg_ms),
                    users.get(name, 0),
                ]
            )
            table.links.append(tenant_link(name) if tenant_link else None)
        tables["tenants"] = table
        created_table = Table(
            "tenants_created", "Tenants created", ["tenant", "name", f"created ({period.tz_name})"]
        )
        for client in created:
            created_table.rows.append(
                [client.schema_name, client.name, f"{client.created_at.astimezone(period.tz):%Y-%m-%d %H:%M}"]
            )
            created_table.links.append(tenant_link(client.schema_name) if tenant_link else None)
        tables["tenants_created"] = created_table
    else:
        daily_users = selectors.usage_active_users_series(period=period, tenant=tenant)
        series_table.columns.append("active users")
        for row, count in zip(series_table.rows, daily_users, strict=True):
            row.append(count)
        chart_list.append(
            (
                f"Active users per {per}",
                charts.line_chart(
                    title=f"Active users per {per} ({period.tz_name})",
                    labels=labels,
                    ticks=ticks,
                    series={"active users": daily_users},
                    y_label=f"users per {per}",
                    unit="users",
                ),
            )
        )

    event_table = Table("events", "Events by type", ["event", "events", "errors", "error rate %", "tokens"])
    for name, fig in events:
        event_table.rows.append([name, fig.events, fig.errors, _pct(fig.error_rate), fig.tokens])
    route_table = Table(
        "routes",
        "Latency per route",
        ["route", "timed events", "errors", "error rate %", "avg ms", "p50 ms", "p95 ms", "p99 ms"],
    )
    for name, fig in routes:
        route_table.rows.append(
            [
                name or "(none)",
                fig.latency_count,
                fig.errors,
                _pct(fig.error_rate),
                _ms(fig.latency_avg_ms),
                _ms(fig.latency_percentile_ms(0.5)),
                _ms(fig.latency_percentile_ms(0.95)),
                _ms(fig.latency_percentile_ms(0.99)),
            ]
        )
    if events:
        chart_list.append(
            (
                "Events by type",
                charts.hbar_chart(
                    title="Events by type",
                    categories=[name for name, _ in events],
                    series={"events": [fig.events for _, fig in events]},
                    unit="events",
                ),
            )
        )
    if routes:
        shown = routes[:12]
        chart_list.append(
            (
                "Latency per route (p50, p95)",
                charts.hbar_chart(
                    title="Latency per route, p50 and p95 (ms)",
                    categories=[name or "(none)" for name, _ in shown],
                    series={
                        "p50": [fig.latency_percentile_ms(0.5) for _, fig in shown],
                        "p95": [fig.latency_percentile_ms(0.95) for _, fig in shown],
                    },
                    unit="ms",
                    decimals=1,
                ),
            )
        )
    tables["events"] = event_table
    tables["routes"] = route_table
    tables["series"] = series_table
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


def _ms_text(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:,.1f} ms"
