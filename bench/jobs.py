"""Background jobs' cost to the web: the signed-in task list under `wrk` against gunicorn
(bench/tenants.py's set-up), with a Celery worker and beat running beside it, beside the
same server with neither running. Rounds alternate quickly, so drift on a shared machine
hits both sides: between rounds the worker and beat are paused (SIGSTOP, no CPU at all,
as if absent) and resumed (SIGCONT), instead of paying a start-up per round.

The worker and beat use the real settings (REDIS_URL, the beat schedule); rollups run
every BENCH_JOBS_ROLLUP_INTERVAL_S (default: the schedule's 60 s). Measuring starts once
both have started (BENCH_JOBS_SETTLE_S), so their start-up is not counted; jobs already
queued (another benchmark's backlog) are purged first.
Target: p50 with them at most 1.05x the p50 without.
"""

import os
import signal
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

from bench.tenants import ROOT, _get, _gunicorn, _http_tenant_ensure, _wrk

WRK_SECONDS = int(os.environ.get("BENCH_JOBS_WRK_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_JOBS_ROUNDS", "6"))
ROLLUP_INTERVAL_S = os.environ.get("BENCH_JOBS_ROLLUP_INTERVAL_S", "60")
SETTLE_S = float(os.environ.get("BENCH_JOBS_SETTLE_S", "12"))


def _queue_purge() -> int:
    """Drop the jobs already queued: a backlog other benchmarks left (the tenants bench's
    sign-up mails, to tenants it has since deleted) is not what a worker and beat cost a
    running site, and draining it doubled the task list's p50."""
    from saas.celery import app

    return int(app.control.purge() or 0)


@contextmanager
def _jobs_running():
    purged = _queue_purge()
    if purged:
        print(f"  purged {purged:,} jobs queued before this benchmark", flush=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saas.settings.dev",
        "JOBS_ROLLUP_INTERVAL_S": ROLLUP_INTERVAL_S,
    }
    celery = [sys.executable, "-m", "celery", "-A", "saas"]
    worker = ["worker", "--loglevel", "WARNING", "--concurrency", "1", "--without-gossip", "--without-mingle"]
    schedule = ROOT / ".data" / "bench-celerybeat-schedule"
    processes = [
        subprocess.Popen(
            [*celery, *worker],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [*celery, "beat", "--loglevel", "WARNING", "--schedule", str(schedule)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ),
    ]  # fmt: skip
    try:
        time.sleep(SETTLE_S)
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError("the Celery worker or beat exited; is Redis running (make redis)?")
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGCONT)
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def run(report) -> None:
    host, cookie, title = _http_tenant_ensure()
    results: dict[str, list[float]] = {"without": [], "with": []}
    with _gunicorn("saas.settings.dev") as port, _jobs_running() as processes:
        if title not in _get(port, host, cookie):
            raise RuntimeError("the task list did not render the bench tasks")
        _wrk(port, host, cookie, seconds=2)  # warm-up
        for round_ in range(ROUNDS):
            order = ["without", "with"] if round_ % 2 == 0 else ["with", "without"]
            for name in order:
                pause = signal.SIGCONT if name == "with" else signal.SIGSTOP
                for process in processes:
                    process.send_signal(pause)
                results[name].append(_wrk(port, host, cookie, seconds=WRK_SECONDS)[1])
    p50 = {name: statistics.median(values) for name, values in results.items()}
    ratio = p50["with"] / p50["without"]
    report.add(
        "jobs.task_list_p50_ms_with_worker_and_beat",
        p50["with"],
        "ms",
        baseline=p50["without"],
        baseline_name="no worker, no beat",
        target="<= 1.05x",
        ok=ratio <= 1.05,
        page="signed-in task list",
    )
