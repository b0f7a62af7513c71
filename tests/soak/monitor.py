"""Samples the server's PostgreSQL connections from pg_stat_activity while a test runs."""

import threading
import time
from collections.abc import Callable
from typing import Any

APP_NAME = "taskhive-soak"
FLUSHER_APP_NAME = "usage_stats_flusher"

COUNT_SQL = """
    SELECT count(*) FILTER (WHERE application_name = %(app)s),
           count(*) FILTER (WHERE application_name = %(flusher)s)
    FROM pg_stat_activity
    WHERE datname = ANY(%(dbs)s) AND backend_start >= to_timestamp(%(since)s)
"""


class ConnectionMonitor(threading.Thread):
    """Polls every `interval_s`; `peak` is the most server connections seen at once.

    Counts only backends started after `since` (the server's start) whose
    application_name is the server's or its flushers', never the test's own."""

    def __init__(
        self, *, connect: Callable[[], Any], dbnames: list[str], since: float, interval_s: float = 0.1
    ):
        super().__init__(daemon=True)
        self.connect = connect
        self.params = {"app": APP_NAME, "flusher": FLUSHER_APP_NAME, "dbs": dbnames, "since": since}
        self.interval_s = interval_s
        self.peak = self.peak_app = self.peak_flushers = self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                while not self._stop_event.is_set():
                    cur.execute(COUNT_SQL, self.params)
                    app, flushers = cur.fetchone()
                    self.samples += 1
                    self.peak_app = max(self.peak_app, app)
                    self.peak_flushers = max(self.peak_flushers, flushers)
                    self.peak = max(self.peak, app + flushers)
                    time.sleep(self.interval_s)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)
