"""Queueing background jobs, and the guarantees every job relies on (docs/jobs.md).

- `job_enqueue_on_commit` sends a task when the current transaction commits (at once in
  autocommit) and never when it rolls back; the task runs in the schema that was current
  at the call (tenant-schemas-celery reads the `_schema_name` header).
- Redis down: the send fails within about JOBS_PUBLISH_TIMEOUT_S, the request carries
  on, and the job is written to the outbox table (core_job_outbox), from which every
  worker's relay thread sends it again with the same task id once the broker is back. If
  even that write fails, the job is logged as lost and counted (jobs_lost_total).
- Delivery is at least once (late acknowledgement, a redelivered message, an outbox
  resend after a send that did succeed): a job makes its effect happen once with
  `job_once`, which records the job's id in the effect's own transaction.
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.utils import IntegrityError
from django.utils import timezone
from prometheus_client import Counter

from core.tenancy import current_schema_name, public_schema

logger = logging.getLogger(__name__)

jobs_enqueue_failures_total = Counter(
    "jobs_enqueue_failures_total",
    "Jobs the broker refused when their transaction committed (then kept in the outbox), by task.",
    ["task"],
)
jobs_lost_total = Counter(
    "jobs_lost_total",
    "Jobs neither sent nor kept in the outbox (broker and database both failed), by task.",
    ["task"],
)

# Redis keys shared by the web processes (readers) and the workers (writers).
WORKERS_KEY = "taskhive:jobs:workers"  # sorted set: worker hostname -> last heartbeat (unix s)
FAILURES_KEY = "taskhive:jobs:failures"  # hash: task name -> failures
WORKERS_FORGET_S = 86_400


def redis_client() -> Any:
    """A client for REDIS_URL with short timeouts: health checks and metrics never hang.
    One connection pool per process and URL (clients are thread-safe)."""
    return _redis_client(settings.REDIS_URL, float(settings.JOBS_PUBLISH_TIMEOUT_S))


@functools.lru_cache(maxsize=4)
def _redis_client(url: str, timeout_s: float) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)


# --- queueing -------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedJob:
    task_id: str
    task_name: str
    schema_name: str


def job_enqueue_on_commit(
    task: Any,
    *args: Any,
    countdown_s: float | None = None,
    task_id: str | None = None,
    using: str | None = None,
    **kwargs: Any,
) -> QueuedJob:
    """Queue `task(*args, **kwargs)` once the current transaction on `using` commits.

    Arguments must be JSON-serialisable. Returns the job's id at once (it can be stored
    beside the work it will do); the send happens on commit and never raises: a broker
    that is down sends the job to the outbox instead."""
    job = QueuedJob(
        task_id=task_id or str(uuid.uuid4()),
        task_name=task.name,
        schema_name=current_schema_name(),
    )
    eta = timezone.now() + timedelta(seconds=countdown_s) if countdown_s else None
    transaction.on_commit(
        partial(job_send, task=task, job=job, args=list(args), kwargs=kwargs, eta=eta),
        using=using,
    )
    return job


def job_send(
    *, task: Any, job: QueuedJob, args: list[Any], kwargs: dict[str, Any], eta: datetime | None
) -> bool:
    """Hand one job to the broker; on failure keep it in the outbox. True if sent now."""
    try:
        _publish(task_name=job.task_name, job=job, args=args, kwargs=kwargs, eta=eta, task=task)
        return True
    except Exception as exc:
        jobs_enqueue_failures_total.labels(job.task_name).inc()
        logger.warning(
            "job %s %s not sent (%s); kept in the outbox for the relay",
            job.task_name,
            job.task_id,
            exc.__class__.__name__,
        )
        try:
            _outbox_write(job=job, args=args, kwargs=kwargs, eta=eta, error=repr(exc))
        except Exception:
            jobs_lost_total.labels(job.task_name).inc()
            logger.exception(
                "job %s %s LOST: neither sent nor kept in the outbox", job.task_name, job.task_id
            )
        return False


def _publish(
    *,
    task_name: str,
    job: QueuedJob,
    args: list[Any],
    kwargs: dict[str, Any],
    eta: datetime | None,
    task: Any = None,
) -> None:
    from celery import current_app

    options: dict[str, Any] = {
        "task_id": job.task_id,
        "headers": {"_schema_name": job.schema_name},
        "retry": True,
        "retry_policy": settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
    }
    if eta is not None:
        options["eta"] = eta
    if task is not None:
        task.apply_async(args=args, kwargs=kwargs, **options)
    else:
        current_app.send_task(task_name, args=args, kwargs=kwargs, **options)


def _outbox_write(
    *, job: QueuedJob, args: list[Any], kwargs: dict[str, Any], eta: datetime | None, error: str
) -> None:
    from core.models import JobOutbox

    # Autocommit on its own: the transaction that queued the job has committed already.
    with public_schema():
        JobOutbox.objects.create(
            task_id=job.task_id,
            task_name=job.task_name,
            args=args,
            kwargs=kwargs,
            schema_name=job.schema_name,
            eta=eta,
            attempts=1,
            last_error=error[:1000],
        )


def jobs_outbox_relay(*, limit: int = 200) -> int:
    """Send the outbox's jobs, oldest first, until it is empty or the broker fails.

    Rows are locked with SKIP LOCKED, so several workers relay without sending a row
    twice at the same time. Returns how many were sent."""
    from core.models import JobOutbox

    sent = 0
    with transaction.atomic():
        rows = list(
            JobOutbox.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .order_by("id")[:limit]
        )
        for row in rows:
            job = QueuedJob(task_id=row.task_id, task_name=row.task_name, schema_name=row.schema_name)
            try:
                _publish(task_name=row.task_name, job=job, args=row.args, kwargs=row.kwargs, eta=row.eta)
            except Exception as exc:
                row.attempts += 1
                row.last_error = repr(exc)[:1000]
                row.save(update_fields=["attempts", "last_error"])
                logger.info("outbox relay: broker still unavailable (%s)", exc.__class__.__name__)
                break
            row.sent_at = timezone.now()
            row.save(update_fields=["sent_at"])
            sent += 1
    if sent:
        logger.info("outbox relay sent %d job(s)", sent)
    return sent


def jobs_outbox_pending() -> int:
    from core.models import JobOutbox

    return JobOutbox.objects.filter(sent_at__isnull=True).count()


# --- exactly-once effects ------------------------------------------------------


@contextmanager
def job_once(*, key: str, task_name: str) -> Iterator[bool]:
    """`with job_once(key=self.request.id, task_name=self.name) as first: if first: ...`

    Opens a transaction and records `key` in it; `first` is False when a previous delivery
    of the same job already committed its effect. A concurrent delivery waits for the
    first one's transaction and then sees False. Put the job's writes inside the block."""
    from core.models import JobRun

    schema_name = current_schema_name()
    with transaction.atomic():
        try:
            # The public table, in the job's transaction; the tenant's role is back after it.
            with transaction.atomic(), public_schema():
                JobRun.objects.create(key=key, task_name=task_name, schema_name=schema_name)
        except IntegrityError:
            yield False
            return
        yield True


# --- worker side ---------------------------------------------------------------


class WorkerRelay:
    """A thread in each worker's main process: every JOBS_RELAY_INTERVAL_S it records a
    heartbeat in Redis (read by /healthz) and relays the outbox."""

    def __init__(self, *, hostname: str | None = None, interval_s: float | None = None) -> None:
        self.hostname = hostname or socket.gethostname()
        self.interval_s = interval_s if interval_s is not None else settings.JOBS_RELAY_INTERVAL_S
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jobs-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def tick(self) -> None:
        from django.db import connections

        try:
            now = time.time()
            client = redis_client()
            client.zadd(WORKERS_KEY, {self.hostname: now})
            client.zremrangebyscore(WORKERS_KEY, 0, now - WORKERS_FORGET_S)  # workers long gone
        except Exception as exc:
            logger.info("worker heartbeat: Redis unavailable (%s)", exc.__class__.__name__)
        try:
            jobs_outbox_relay()
        except Exception:
            logger.warning("outbox relay failed", exc_info=True)
            connections.close_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval_s)


def worker_heartbeat_age_s() -> float | None:
    """Seconds since the freshest worker heartbeat, None if no worker ever beat.
    Raises when Redis cannot be reached."""
    newest = redis_client().zrevrange(WORKERS_KEY, 0, 0, withscores=True)
    if not newest:
        return None
    return max(time.time() - float(newest[0][1]), 0.0)


def task_failure_record(task_name: str) -> None:
    """Count a failed task in Redis, where /metrics of any web process reads it."""
    try:
        redis_client().hincrby(FAILURES_KEY, task_name[:200], 1)
    except Exception:
        logger.warning("could not count the failure of %s in Redis", task_name, exc_info=True)


def jobs_health() -> dict[str, str]:
    """/healthz: "redis" ok when it answers; "worker" ok when a worker beat within
    JOBS_HEARTBEAT_MAX_AGE_S. Two round trips at most, each bounded by the client timeout."""
    state = {"redis": "fail", "worker": "fail"}
    try:
        redis_client().ping()
        state["redis"] = "ok"
        age = worker_heartbeat_age_s()
        if age is not None and age <= settings.JOBS_HEARTBEAT_MAX_AGE_S:
            state["worker"] = "ok"
    except Exception as exc:
        logger.info("healthz: Redis unavailable (%s)", exc.__class__.__name__)
    return state


def jobs_snapshot() -> dict[str, Any]:
    """What /healthz and /metrics show about the job system: Redis, workers, queue."""
    state: dict[str, Any] = {"redis": "fail", "worker": "fail", "queue_length": None, "failures": {}}
    try:
        client = redis_client()
        client.ping()
        state["redis"] = "ok"
        age = worker_heartbeat_age_s()
        state["worker_heartbeat_age_s"] = age
        if age is not None and age <= settings.JOBS_HEARTBEAT_MAX_AGE_S:
            state["worker"] = "ok"
        state["queue_length"] = int(client.llen(settings.CELERY_TASK_DEFAULT_QUEUE))
        state["failures"] = {k.decode(): int(v) for k, v in client.hgetall(FAILURES_KEY).items()}
    except Exception as exc:
        logger.info("jobs snapshot: Redis unavailable (%s)", exc.__class__.__name__)
    return state


def jobs_records_purge(*, older_than_days: int) -> int:
    """Delete job-run keys and sent outbox rows older than this. A key must outlive every
    possible redelivery of its job (the visibility timeout), so days, not hours."""
    from core.models import JobOutbox, JobRun

    cutoff = timezone.now() - timedelta(days=older_than_days)
    runs, _ = JobRun.objects.filter(finished_at__lt=cutoff).delete()
    sent, _ = JobOutbox.objects.filter(sent_at__lt=cutoff).delete()
    return runs + sent
