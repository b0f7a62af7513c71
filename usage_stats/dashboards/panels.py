"""One builder per dashboard panel. Each takes the figures it shows (read by
`dashboard.dashboard_build` through the selectors) and returns its cards, charts and
tables; none reads the database. A table is also its CSV export (its `key`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString

from . import charts, labels
from .charts import NO_VALUE
from .periods import Period
from .selectors import Figures, SeriesPoint

TOP_TENANTS = 20
CHART_TENANTS = 5
ROUTE_CHART_MAX = 12
SIGNUP_EVENT = "user.signed_up"

Card = tuple[str, str]
Chart = tuple[str, SafeString]


@dataclass
class Table:
    key: str  # the `export` parameter that downloads it as CSV
    title: str
    columns: list[str]
    collapsed: bool = False  # long tables start folded away
    rows: list[list[Any]] = field(default_factory=list)  # str, int, float (already rounded) or None
    links: list[str | None] = field(default_factory=list)  # an optional link for each row's first cell

    @property
    def linked_rows(self) -> list[tuple[str | None, list[Any]]]:
        return [(self.links[i] if i < len(self.links) else None, row) for i, row in enumerate(self.rows)]


@dataclass(frozen=True)
class Axis:
    """The chart buckets of a period: labels for tables, ticks for axes, the unit word."""

    labels: list[str]
    ticks: list[str]
    per: str  # "hour" or "day"
    tz_name: str

    @classmethod
    def of(cls, period: Period) -> Axis:
        count = len(period.edges)
        return cls(
            labels=[period.bucket_label(i) for i in range(count)],
            ticks=[period.tick_label(i) for i in range(count)],
            per="hour" if period.bucket == "hour" else "day",
            tz_name=period.tz_name,
        )


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 2)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _ms_text(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:,.1f} ms"


def signups_count(events: list[tuple[str, Figures]]) -> int:
    """Signups are `user.signed_up` events, so they come from the rollups too."""
    return sum(figures.events for name, figures in events if name == SIGNUP_EVENT)


def summary_cards(*, totals: Figures, active_users: int, signups: int, api_calls: int) -> list[Card]:
    """Each card is one figure of the events in the period (tests/usage_stats compare every
    card with a count of the raw events): requests are pages and API calls, one per HTTP
    request; latency is theirs."""
    return [
        ("Requests", charts.number(totals.requests)),
        ("API calls", charts.number(api_calls)),
        ("Events", charts.number(totals.events)),
        ("Errors", charts.number(totals.errors)),
        ("Error rate", NO_VALUE if totals.error_rate is None else f"{totals.error_rate * 100:.2f} %"),
        ("Latency p50", _ms_text(totals.latency_percentile_ms(0.5))),
        ("Latency p95", _ms_text(totals.latency_percentile_ms(0.95))),
        ("Active users", charts.number(active_users)),
        ("Signups", charts.number(signups)),
    ]


def events_count(events: list[tuple[str, Figures]], name: str) -> int:
    return sum(figures.events for event, figures in events if event == name)


def requests_panel(*, axis: Axis, series: list[SeriesPoint]) -> tuple[Chart, Table]:
    """Requests and errors per bucket: the bar chart and the per-bucket table."""
    per, labels = axis.per, axis.labels
    chart = (
        f"Requests per {per}",
        charts.bar_chart(
            title=f"Requests and errors per {per} ({axis.tz_name})",
            labels=labels,
            ticks=axis.ticks,
            values=[p.requests for p in series],
            overlay=[p.errors for p in series],
            name="requests",
            overlay_name="has errors (count on hover)",
            y_label=f"requests per {per}",
            hover=lambda i: (
                f"{labels[i]} · {charts.number(series[i].requests)} requests · "
                f"{charts.number(series[i].errors)} errors · {charts.number(series[i].events)} events"
            ),
        ),
    )
    table = Table(
        "series",
        f"Per {per} ({axis.tz_name})",
        [per, "requests", "events", "errors"],
        collapsed=len(labels) > 10,
    )
    for label, point in zip(labels, series, strict=True):
        table.rows.append([label, point.requests, point.events, point.errors])
    return chart, table


def active_users_panel(*, axis: Axis, daily_users: list[int], series_table: Table) -> Chart:
    """One tenant's distinct users per bucket: a line chart, and a column of the series table."""
    series_table.columns.append("active users")
    for row, count in zip(series_table.rows, daily_users, strict=True):
        row.append(count)
    return (
        f"Active users per {axis.per}",
        charts.line_chart(
            title=f"Active users per {axis.per} ({axis.tz_name})",
            labels=axis.labels,
            ticks=axis.ticks,
            series={"active users": daily_users},
            y_label=f"people per {axis.per}",
            unit="people",
        ),
    )


def tenants_panel(
    *,
    axis: Axis,
    period: Period,
    created: list[Any],
    by_tenant: dict[str, list[int]],
    top: list[tuple[Any, Figures]],
    users: dict[str, int],
    tenant_link: Callable[[str], str] | None,
) -> tuple[Card, list[Chart], list[Table]]:
    """Staff only: tenants created, the busiest tenants' requests, the top tenants table."""
    card = ("Tenants created", charts.number(len(created)))
    chart_list: list[Chart] = []
    if by_tenant:
        chart_list.append(
            (
                f"Requests per {axis.per} by tenant",
                charts.line_chart(
                    title=f"Requests per {axis.per} for the {CHART_TENANTS} busiest tenants",
                    labels=axis.labels,
                    ticks=axis.ticks,
                    series=by_tenant,
                    y_label=f"requests per {axis.per}",
                    unit="requests",
                ),
            )
        )
    table = Table(
        "tenants",
        f"Top {TOP_TENANTS} tenants by events",
        ["tenant", "requests", "events", "errors", "error rate %", "avg ms", "active users"],
    )
    for label, fig in top:
        name = label.text
        table.rows.append(
            [
                name,
                fig.requests,
                fig.events,
                fig.errors,
                _pct(fig.error_rate),
                _ms(fig.latency_avg_ms),
                users.get(name, 0),
            ]
        )
        table.links.append(tenant_link(label.slug) if tenant_link and label.slug else None)
    created_table = Table(
        "tenants_created", "Tenants created", ["tenant", "name", f"created ({axis.tz_name})"]
    )
    for client in created:
        created_table.rows.append(
            [client.schema_name, client.name, f"{client.created_at.astimezone(period.tz):%Y-%m-%d %H:%M}"]
        )
        created_table.links.append(tenant_link(client.slug) if tenant_link else None)
    return card, chart_list, [table, created_table]


def events_panel(*, events: list[tuple[str, Figures]]) -> tuple[Chart | None, Table]:
    table = Table("events", "Events by type", ["event", "name", "events", "errors", "error rate %"])
    for name, fig in events:
        table.rows.append([labels.event_label(name), name, fig.events, fig.errors, _pct(fig.error_rate)])
    if not events:
        return None, table
    chart = (
        "Events by type",
        charts.hbar_chart(
            title="Events by type",
            categories=[labels.event_label(name) for name, _ in events],
            technical=[name for name, _ in events],
            series={"events": [fig.events for _, fig in events]},
            unit="events",
            axis_label="events",
        ),
    )
    return chart, table


def routes_panel(*, routes: list[tuple[str, Figures]]) -> tuple[Chart | None, Table]:
    """Latency per route: one timed event per request, so `requests` counts each once."""
    table = Table(
        "routes",
        "Latency per route",
        ["route", "name", "requests", "errors", "error rate %", "avg ms", "p50 ms", "p95 ms", "p99 ms"],
    )
    for name, fig in routes:
        table.rows.append(
            [
                labels.route_label(name),
                name,
                fig.latency_count,
                fig.errors,
                _pct(fig.error_rate),
                _ms(fig.latency_avg_ms),
                _ms(fig.latency_percentile_ms(0.5)),
                _ms(fig.latency_percentile_ms(0.95)),
                _ms(fig.latency_percentile_ms(0.99)),
            ]
        )
    if not routes:
        return None, table
    shown = routes[:ROUTE_CHART_MAX]
    chart = (
        "Latency per route (p50, p95)",
        charts.hbar_chart(
            title="Latency per route, p50 and p95, in milliseconds",
            categories=[labels.route_label(name) for name, _ in shown],
            technical=[name or "no route" for name, _ in shown],
            series={
                "p50": [fig.latency_percentile_ms(0.5) for _, fig in shown],
                "p95": [fig.latency_percentile_ms(0.95) for _, fig in shown],
            },
            unit="ms",
            decimals=1,
            axis_label="latency (ms)",
        ),
    )
    return chart, table
