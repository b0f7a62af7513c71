"""Rollups: hourly aggregates of the events, resumable, every event counted once
(`rollup`), and the latency histogram buckets they and the dashboards share."""
