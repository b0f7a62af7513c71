"""Usage events, collected in bulk into the separate `stats` database."""

from usage_stats.collector import flush, record

__all__ = ["flush", "record"]
