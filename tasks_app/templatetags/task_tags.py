"""`{% due task today %}`: a task's due date as a <time> in words (tasks_app/due.py)."""

import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ..due import due_describe

register = template.Library()


@register.simple_tag
def due(task, today: dt.date) -> str:
    if task.due_date is None:
        return mark_safe(
            '<span class="help" title="No due date">—<span class="visually-hidden"> no due date</span></span>'
        )
    described = due_describe(task.due_date, today=today, done=task.is_done)
    return format_html(
        '<time datetime="{}" title="Due {}"{}>{}</time>',
        described.iso,
        described.date_label,
        mark_safe(' class="overdue"') if described.overdue else "",
        described.phrase,
    )
