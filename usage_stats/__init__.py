"""Usage events, collected in bulk into the separate `stats` database.

Stages, each a package with its SQL beside it (`sql.py`), importing only the stages
below it (pyproject.toml, import-linter): demo | dashboards > rollups > storage > ingest.

- ingest: request scope, encoding, BatchWriter, the collector and this process's one,
  the middleware. `record`, `current_tenant_id`, `flush`, `snapshot` and `shutdown` are re-exported here.
  Tenants are named by `Client.uuid` (`tenant_id`), never by schema name.
- storage: monthly partitions and retention (commands and post_migrate only).
- rollups: hourly aggregates and the latency histogram buckets.
- dashboards: periods, selectors (the read door), panels, charts, forms, views.
- demo: synthetic events for `stats_generate` and the benchmarks.

The schema is the migrations' (literal DDL); services.py deletes a tenant's rows.
"""

from usage_stats.ingest.process import current_tenant_id, flush, record, shutdown, snapshot

__all__ = ["current_tenant_id", "flush", "record", "shutdown", "snapshot"]
