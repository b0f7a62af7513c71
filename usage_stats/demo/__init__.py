"""Synthetic demo data written by PostgreSQL itself: `stats_generate` and the benchmarks
use it; no production module imports it."""
