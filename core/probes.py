"""What /healthz and /metrics read about this process's usage-event collector.

core sits below the apps and never imports them: the usage_stats app registers its
snapshot function here in AppConfig.ready().
"""

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Snapshot = Callable[[], dict[str, Any]]
_collector_snapshot: Snapshot | None = None


def collector_snapshot_register(snapshot: Snapshot) -> None:
    global _collector_snapshot
    _collector_snapshot = snapshot


def collector_snapshot() -> dict[str, Any] | None:
    """The collector's counters, or None when no collector is installed or it fails."""
    if _collector_snapshot is None:
        return None
    try:
        return _collector_snapshot()
    except Exception:  # a broken collector must never break the request asking
        logger.warning("collector snapshot failed", exc_info=True)
        return None
