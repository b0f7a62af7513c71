import datetime as dt
from html import escape

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString

from usage_stats.dashboards.charts import NO_VALUE

register = template.Library()


@register.filter
def usage_cell(value) -> str:
    """A dashboard table cell: thousands separators for numbers, a dash for nothing.
    The CSV export writes the same values without separators."""
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:,}"
    return str(value)


@register.simple_tag
def usage_rows(table, query: str) -> SafeString:
    """A table's body rows (the first cell a row header, linked when the row has a link),
    built here rather than by template loops: a 30-day page has thousands of cells, and a
    template looks up and escapes each one several times over. Every text goes through
    html.escape (what django.utils.html.escape does, without its lazy-string wrapper, which
    cost more than the escaping on a page of thousands of cells)."""
    rows = []
    for link, row in table.linked_rows:
        if not row:
            rows.append("<tr></tr>")
            continue
        first = escape(usage_cell(row[0]))
        head = (
            f'<th scope="row"><a href="{escape(link)}?{escape(query)}">{first}</a></th>'
            if link
            else f'<th scope="row">{first}</th>'
        )
        cells = "".join(f"<td>{escape(usage_cell(value))}</td>" for value in row[1:])
        rows.append(f"<tr>{head}{cells}</tr>")
    return SafeString("\n".join(rows))


# The beat schedule rolls up every minute (saas/settings/jobs.py): figures older than
# this mean the scheduler or the worker is not running.
ROLLUP_STALE_S = 300


def _age_s(moment: dt.datetime | None) -> float | None:
    if moment is None:
        return None
    return max(0.0, (timezone.now() - moment).total_seconds())


@register.filter
def rollup_age(moment: dt.datetime | None) -> str:
    """How long ago the rollups last ran, for people: "40 s ago", "3 min ago", "never"."""
    age = _age_s(moment)
    if age is None:
        return "never"
    if age < 90:
        return f"{int(age)} s ago"
    if age < 90 * 60:
        return f"{round(age / 60)} min ago"
    if age < 36 * 3600:
        return f"{round(age / 3600)} h ago"
    return f"{round(age / 86400)} days ago"


@register.filter
def rollup_stale(moment: dt.datetime | None) -> bool:
    age = _age_s(moment)
    return age is None or age > ROLLUP_STALE_S
