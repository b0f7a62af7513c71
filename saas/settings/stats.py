"""Usage stats pipeline (docs/usage-stats.md): the per-process collector and its flusher."""

from django.core.exceptions import ImproperlyConfigured

from .environment import env

USAGE_STATS_ENABLED = env.bool("USAGE_STATS_ENABLED", default=True)
USAGE_STATS_BATCH_SIZE = env.int("USAGE_STATS_BATCH_SIZE", default=5000)
USAGE_STATS_FLUSH_INTERVAL_S = env.float("USAGE_STATS_FLUSH_INTERVAL_S", default=1.0)
USAGE_STATS_QUEUE_MAX = env.int("USAGE_STATS_QUEUE_MAX", default=200_000)
USAGE_STATS_PARTITION_MONTHS_AHEAD = env.int("USAGE_STATS_PARTITION_MONTHS_AHEAD", default=3)
# A dashboard page's stats reads run side by side, on up to this many connections per
# process besides the request's (usage_stats/dashboards/readers.py); 1: one after another.
STATS_DASHBOARD_READERS = env.int("STATS_DASHBOARD_READERS", default=4)
if STATS_DASHBOARD_READERS < 1:
    raise ImproperlyConfigured(f"STATS_DASHBOARD_READERS must be at least 1, not {STATS_DASHBOARD_READERS}.")
