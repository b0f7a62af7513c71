"""A batch of queued events on its way to the database, and how often and how soon the
collector retries one."""

from __future__ import annotations

import random

from .encoding import QueuedEvent

BACKOFF_BASE_S = 0.1
BACKOFF_CAP_S = 5.0
NON_TRANSIENT_ATTEMPTS = 5  # then the batch is dropped as db_error


class Batch:
    """Events taken off the queue, serialised once (ahead of their write when the flusher
    is busy); the lines are kept for retries."""

    def __init__(self, items: list[QueuedEvent]) -> None:
        self.items: list[QueuedEvent] | None = items  # None once serialised into `lines`
        self.lines: list[bytes] = []
        self.size = len(items)
        self.attempts = 0
        self.failures_non_transient = 0
        self.maybe_committed = False  # a COPY whose outcome we never heard

    def uncounted(self) -> int:
        """Events of this batch in no counter yet (serialising counts the invalid ones)."""
        return self.size if self.items is not None else len(self.lines)


def backoff_s(attempt: int) -> float:
    """Seconds before retry `attempt`: uniform in [ceiling/2, ceiling], the ceiling doubling
    from 0.2 s (attempt 1) up to BACKOFF_CAP_S, so retries of many processes spread out."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** min(attempt, 16))
    return ceiling / 2 + random.uniform(0, ceiling / 2)
