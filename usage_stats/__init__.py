"""Usage events, collected in bulk into the separate `stats` database.

Stages, each importing only the ones below it (pyproject.toml, import-linter):
demo | dashboards > rollups > storage > ingest.
"""

from usage_stats.ingest.process import flush, record, shutdown, snapshot

__all__ = ["flush", "record", "shutdown", "snapshot"]
