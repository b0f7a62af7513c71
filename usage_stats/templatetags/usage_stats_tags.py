from django import template

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
