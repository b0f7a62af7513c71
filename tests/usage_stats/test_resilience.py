"""The stats database goes away for real; a process forks; a server gets SIGTERM mid-burst.
No request fails and no event is lost."""

import os
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.utils import timezone

import usage_stats
from tests.support.gunicorn import database_url, gunicorn
from tests.usage_stats.dash_support import tenant_id
from usage_stats.ingest.process import collector

pytestmark = pytest.mark.django_db(databases=["default", "stats"])

GUNICORN_ARGS = ["--preload", "--graceful-timeout", "20"]  # preload: fork after import


def test_an_unreachable_stats_database_fails_no_request_and_loses_no_event(acme, globex, stats_db, marker):
    assert usage_stats.flush()
    since = timezone.now()
    dropped_before = dict(collector().snapshot()["dropped_total"])
    statuses = []
    with stats_db.outage():
        for i in range(30):
            tenant = acme if i % 2 else globex
            statuses.append(tenant.client().get("/accounts/login/").status_code)
            usage_stats.record("test.outage", tenant_id=marker, tokens=i)
        # The flusher really cannot write: it keeps the events and reports why.
        assert not usage_stats.flush(timeout_s=1.5)
        snap = collector().snapshot()
        assert snap["queued"] >= 60
        assert "connections" in (snap["last_error"] or "") or "terminat" in (snap["last_error"] or "")

    assert statuses == [200] * 30, "no request may fail while the stats database is down"
    assert usage_stats.flush(timeout_s=30)
    assert stats_db.count("tenant_id = %s", [marker]) == 30
    assert (
        stats_db.count("event = 'request' AND route = 'accounts:login GET' AND occurred_at >= %s", [since])
        == 30
    )
    assert collector().snapshot()["dropped_total"] == dropped_before


def test_a_forked_child_writes_its_own_events_and_not_its_parents(stats_db, marker):
    assert usage_stats.flush()
    for i in range(5):
        usage_stats.record("test.fork.parent", tenant_id=marker, tokens=i)
    pid = os.fork()
    if pid == 0:  # the child: its own flusher, its own connection
        code = 1
        try:
            for i in range(40):
                usage_stats.record("test.fork.child", tenant_id=marker, tokens=i)
            snap = collector().snapshot()
            ok = usage_stats.flush(timeout_s=20) and snap["pid"] == os.getpid() and snap["queued_total"] == 40
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

    assert usage_stats.flush()
    assert stats_db.count("tenant_id = %s AND event = 'test.fork.child'", [marker]) == 40
    assert stats_db.count("tenant_id = %s AND event = 'test.fork.parent'", [marker]) == 5
    # The parent's connection survived the child's exit.
    usage_stats.record("test.fork.after", tenant_id=marker)
    assert usage_stats.flush()
    assert stats_db.count("tenant_id = %s AND event = 'test.fork.after'", [marker]) == 1


def _get(port: int, host: str, path: str, timeout: float = 5.0) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_sigterm_during_a_burst_loses_no_event(acme, stats_db, tmp_path):
    """gunicorn (--preload), one worker, events held in memory (no size or time flush): SIGTERM makes
    the worker flush everything it recorded before it exits."""
    since = timezone.now()
    host = f"acme.{settings.BASE_DOMAIN}"
    with gunicorn(
        database_url=database_url("default"),
        stats_database_url=database_url("stats"),
        log_dir=tmp_path,
        workers=1,
        threads=4,
        extra_env={"USAGE_STATS_FLUSH_INTERVAL_S": "3600", "USAGE_STATS_BATCH_SIZE": "1000000"},
        extra_args=GUNICORN_ARGS,
    ) as app:
        port, server = app.port, app.process
        served = []
        stop = threading.Event()

        def burst():
            while not stop.is_set():
                try:
                    served.append(_get(port, host, "/accounts/login/"))
                except OSError:
                    return  # the server has stopped listening

        workers = [threading.Thread(target=burst) for _ in range(3)]
        for worker in workers:
            worker.start()
        try:
            deadline = time.monotonic() + 30
            while len(served) < 60:
                assert time.monotonic() < deadline, f"only {len(served)} responses in 30 s: {app.log()}"
                assert any(worker.is_alive() for worker in workers), f"every client stopped: {app.log()}"
                time.sleep(0.01)
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        finally:  # the clients stop even when the burst never got going
            stop.set()
            for worker in workers:
                worker.join(timeout=10)
        log = app.log()

    assert server.returncode == 0, log
    ok = served.count(200)
    assert ok >= 60 and set(served) == {200}
    written = stats_db.count(
        "tenant_id = %s AND event = 'request' AND route = 'accounts:login GET' AND occurred_at >= %s",
        [tenant_id("acme"), since],
    )
    # Every response the clients got was recorded and written before the worker exited
    # (plus at most one request per client thread that was served as the signal landed).
    assert ok <= written <= ok + 3
