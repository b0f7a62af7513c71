"""Background jobs (docs/jobs.md): Celery on Redis, every task in the schema of the
tenant that queued it (tenant-schemas-celery), and the beat schedule.

Development and tests read REDIS_URL from .data/redis.env (scripts/redis.sh).
"""

from celery.schedules import crontab

from .environment import BASE_DIR, env

# The embedded server of scripts/redis.sh unless the environment names another.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6380/0")

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# Jobs report through the database (core_job_run, their own rows), not a result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A task is acknowledged after it ran, and put back when its process dies under it:
# a worker killed mid-task runs it again, so every job must be idempotent (core/jobs.py).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message not acknowledged within this time is delivered again (a worker that died as a
# whole, not just one of its processes). Longer than any countdown used here (Redis
# transport: a task waiting for its ETA is unacknowledged too).
JOBS_VISIBILITY_TIMEOUT_S = env.int("JOBS_VISIBILITY_TIMEOUT_S", default=3600)
# How often each worker looks for such messages (one small Redis scan).
JOBS_UNACKED_RESTORE_INTERVAL_S = env.int("JOBS_UNACKED_RESTORE_INTERVAL_S", default=10)
# Publishing never waits long: a request that queues a job while Redis is down falls
# back to the outbox (core_job_outbox) within about JOBS_PUBLISH_TIMEOUT_S.
JOBS_PUBLISH_TIMEOUT_S = env.float("JOBS_PUBLISH_TIMEOUT_S", default=1.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": JOBS_VISIBILITY_TIMEOUT_S,
    "unacked_restore_interval": JOBS_UNACKED_RESTORE_INTERVAL_S,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": JOBS_PUBLISH_TIMEOUT_S,
    "socket_timeout": max(JOBS_PUBLISH_TIMEOUT_S, 5.0),
    "max_retries": 1,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# tenant-schemas-celery: tenants looked up by schema are cached this long in a worker.
CELERY_TASK_TENANT_CACHE_SECONDS = env.int("JOBS_TENANT_CACHE_S", default=30)

# Every worker's relay thread: heartbeat into Redis and resend the outbox this often.
JOBS_RELAY_INTERVAL_S = env.float("JOBS_RELAY_INTERVAL_S", default=5.0)
# /healthz calls the job worker alive while its last heartbeat is younger than this.
JOBS_HEARTBEAT_MAX_AGE_S = env.float("JOBS_HEARTBEAT_MAX_AGE_S", default=30.0)

# Expired sessions are purged in every tenant schema once a day, in batches of this many
# schemas spread evenly over JOBS_SESSION_PURGE_SPREAD_S (well under the visibility timeout).
JOBS_SESSION_PURGE_BATCH = env.int("JOBS_SESSION_PURGE_BATCH", default=50)
JOBS_SESSION_PURGE_SPREAD_S = env.int("JOBS_SESSION_PURGE_SPREAD_S", default=1800)
# Usage-event partitions older than the current month and this many before it are dropped
# by the daily maintenance; 0 keeps every month.
USAGE_STATS_RETAIN_MONTHS = env.int("USAGE_STATS_RETAIN_MONTHS", default=0)

# Rollups run this often (dashboards show how fresh they are; events appear within about
# this plus the collector's flush interval).
JOBS_ROLLUP_INTERVAL_S = env.float("JOBS_ROLLUP_INTERVAL_S", default=60.0)

# Job-run keys (exactly-once effects) and sent outbox rows are kept this long; far longer
# than any redelivery can come (JOBS_VISIBILITY_TIMEOUT_S).
JOBS_RECORDS_RETAIN_DAYS = env.int("JOBS_RECORDS_RETAIN_DAYS", default=7)

# Tenant exports written by the job (tenants/exports.py); served only to whoever asked.
JOBS_EXPORT_DIR = env.str("JOBS_EXPORT_DIR", default=str(BASE_DIR / ".data" / "exports"))

# The schedule (celery beat, one process for the whole site). Every entry is idempotent:
# a beat restarted or run twice costs a repeated run, never a double count.
CELERY_BEAT_SCHEDULE = {
    "usage-rollup": {"task": "usage_stats.stats_rollup", "schedule": JOBS_ROLLUP_INTERVAL_S},
    "usage-partitions": {"task": "usage_stats.stats_partitions", "schedule": crontab(hour=3, minute=17)},
    "sessions-purge": {"task": "tenants.sessions_purge_fanout", "schedule": crontab(hour=4, minute=7)},
    "jobs-records-purge": {"task": "core.jobs_records_purge", "schedule": crontab(hour=2, minute=41)},
    # Sign-ups queue a refill too; this one also replaces spares after a deploy.
    "tenants-spares-refill": {"task": "tenants.spare_schemas_refill", "schedule": 300.0},
    "tenants-purge-grace-ended": {
        "task": "tenants.tenants_purge_grace_ended",
        "schedule": crontab(hour=5, minute=23),
    },
}
