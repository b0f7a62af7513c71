"""Jobs through a real Redis and a real `celery worker` process (tests/jobs/conftest.py)."""

import os
import signal
import uuid

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from core.jobs import job_enqueue_on_commit
from core.models import JobRun
from tests.support.live_server import committed

from . import probe_tasks
from .support import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db, pytest.mark.timeout(180)]


def _enqueue_in(schema: str, task, *args, **kwargs) -> str:
    """Queue from a committed transaction on a fresh connection in `schema`."""

    def run() -> str:
        with schema_context(schema), transaction.atomic():
            return job_enqueue_on_commit(task, *args, **kwargs).task_id

    return committed(run)


@pytest.mark.parametrize("label", ["acme", "globex", "public"])
def test_task_runs_in_the_schema_that_queued_it(label, jobs_worker, redis_clean, probe_tables):
    probe = uuid.uuid4().hex
    _enqueue_in(probe_tables[label], probe_tasks.probe_schema, probe)

    seen = wait_for(
        lambda: redis_clean.client().hgetall(f"probe:{probe}"), timeout_s=30, message=jobs_worker.log()
    )
    assert seen == {b"schema": probe_tables[label].encode(), b"marker": f"marker of {label}".encode()}


def test_job_queued_in_a_rolled_back_transaction_never_runs(jobs_worker, redis_clean, probe_tables):
    rolled_back, sentinel = uuid.uuid4().hex, uuid.uuid4().hex

    class Rollback(Exception):
        pass

    def queue_then_roll_back() -> None:
        with schema_context(probe_tables["acme"]):
            try:
                with transaction.atomic():
                    job_enqueue_on_commit(probe_tasks.probe_ran, rolled_back)
                    raise Rollback
            except Rollback:
                pass
            # Queued after the rolled-back one: once it has run, the other would have too.
            with transaction.atomic():
                job_enqueue_on_commit(probe_tasks.probe_ran, sentinel)

    committed(queue_then_roll_back)
    client = redis_clean.client()
    wait_for(lambda: client.get(f"probe:ran:{sentinel}"), timeout_s=30, message="the sentinel job")
    assert client.get(f"probe:ran:{rolled_back}") is None
    assert client.llen("celery") == 0


def _effect_rows(probe: str) -> int:
    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM public.jobs_probe_effect WHERE probe = %s", [probe])
            return cursor.fetchone()[0]

    return committed(count)


def test_worker_process_killed_mid_task_runs_it_again_and_its_effect_happens_once(
    jobs_worker, redis_clean, probe_tables
):
    probe = uuid.uuid4().hex
    client = redis_clean.client()
    task_id = _enqueue_in(probe_tables["globex"], probe_tasks.probe_effect_once, probe, 3.0)

    first_pid = int(wait_for(lambda: client.get(f"probe:pid:{probe}"), timeout_s=30, message="the first run"))
    assert first_pid in jobs_worker.children()
    os.kill(first_pid, signal.SIGKILL)  # inside the job's transaction, effect row written

    wait_for(lambda: client.get(f"probe:finished:{probe}"), timeout_s=60, message=jobs_worker.log())
    assert int(client.get(f"probe:starts:{probe}")) == 2
    assert int(client.get(f"probe:pid:{probe}")) != first_pid
    assert _effect_rows(probe) == 1
    assert committed(lambda: JobRun.objects.filter(key=task_id).count()) == 1


def test_worker_process_killed_after_the_effect_committed_does_not_repeat_it(
    jobs_worker, redis_clean, probe_tables
):
    """Late acknowledgement delivers the job again; job_once finds its row and skips."""
    probe = uuid.uuid4().hex
    client = redis_clean.client()
    _enqueue_in(probe_tables["acme"], probe_tasks.probe_effect_once, probe, 0.0, sleep_after_commit_s=30.0)

    pid = int(wait_for(lambda: client.get(f"probe:committed:{probe}"), timeout_s=30, message="the commit"))
    os.kill(pid, signal.SIGKILL)  # effect committed, message not yet acknowledged

    wait_for(
        lambda: int(client.get(f"probe:finished:{probe}") or 0) >= 2, timeout_s=60, message=jobs_worker.log()
    )
    assert int(client.get(f"probe:starts:{probe}")) == 2
    assert _effect_rows(probe) == 1


def test_whole_worker_killed_mid_task_another_worker_completes_it_once(
    jobs_redis, redis_clean, probe_tables, tmp_path
):
    """SIGKILL to the worker and its child together: nobody rejects the message, Redis
    delivers it again after the visibility timeout, a new worker completes it once."""
    from .conftest import worker_env
    from .support import celery_process

    env = worker_env(jobs_redis, JOBS_VISIBILITY_TIMEOUT_S="3", JOBS_UNACKED_RESTORE_INTERVAL_S="1")
    probe = uuid.uuid4().hex
    client = redis_clean.client()
    with celery_process("worker", env=env, log_dir=tmp_path) as first:
        task_id = _enqueue_in(probe_tables["acme"], probe_tasks.probe_effect_once, probe, 30.0)
        wait_for(lambda: client.get(f"probe:pid:{probe}"), timeout_s=30, message=first.log())
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
    assert _effect_rows(probe) == 0  # the killed run's transaction rolled back
    with celery_process("worker", env=env, log_dir=tmp_path) as second:
        wait_for(lambda: client.get(f"probe:finished:{probe}"), timeout_s=60, message=second.log())
    # At least once: with a 3 s visibility timeout a loaded machine may deliver it yet again;
    # the effect still happens exactly once.
    assert int(client.get(f"probe:starts:{probe}")) >= 2
    assert _effect_rows(probe) == 1
    assert committed(lambda: JobRun.objects.filter(key=task_id).count()) == 1
