"""Due dates in words (tasks_app/due.py)."""

import datetime as dt

import pytest

from tasks_app.due import due_describe

TODAY = dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    ("days", "done", "phrase", "overdue"),
    [
        (0, False, "today", False),
        (1, False, "tomorrow", False),
        (3, False, "in 3 days", False),
        (20, False, "in 2 weeks", False),
        (90, False, "in 3 months", False),
        (-1, False, "1 day overdue", True),
        (-2, False, "2 days overdue", True),
        (-30, False, "4 weeks overdue", True),
        (-2, True, "2 days ago", False),
        (-1, True, "yesterday", False),
    ],
)
def test_due_dates_are_said_in_words(days, done, phrase, overdue):
    described = due_describe(TODAY + dt.timedelta(days=days), today=TODAY, done=done)
    assert (described.phrase, described.overdue) == (phrase, overdue)


def test_the_exact_date_is_kept_for_the_hover():
    described = due_describe(dt.date(2026, 11, 23), today=TODAY)
    assert described.date_label == "23 Nov 2026" and described.iso == "2026-11-23"
