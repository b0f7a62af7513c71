"""Due dates as people say them: "today", "in 3 days", "2 days overdue".

The exact date goes in the `title` (shown on hover) and the `datetime` attribute; overdue
is said in words as well as shown in colour, so it does not rest on colour alone.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils.dateformat import format as date_format

DATE_FORMAT = "j M Y"  # the app's date format, as in the admins (core/formats/en/formats.py)


@dataclass(frozen=True)
class Due:
    phrase: str
    overdue: bool
    date_label: str
    iso: str


def _span(days: int) -> str:
    if days < 14:
        return f"{days} day{'s' if days != 1 else ''}"
    if days < 61:
        weeks = days // 7
        return f"{weeks} weeks"
    months = round(days / 30.4)
    return f"{months} months" if months < 24 else f"{round(days / 365.25)} years"


def due_describe(due_date: dt.date, *, today: dt.date, done: bool = False) -> Due:
    """How to show `due_date` on `today`; a done task is never overdue."""
    days = (due_date - today).days
    if days == 0:
        phrase = "today"
    elif days == 1:
        phrase = "tomorrow"
    elif days > 1:
        phrase = f"in {_span(days)}"
    elif done:
        phrase = "yesterday" if days == -1 else f"{_span(-days)} ago"
    else:
        phrase = f"{_span(-days)} overdue"
    return Due(
        phrase=phrase,
        overdue=days < 0 and not done,
        date_label=date_format(due_date, DATE_FORMAT),
        iso=due_date.isoformat(),
    )
