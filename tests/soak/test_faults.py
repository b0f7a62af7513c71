"""Faults under real HTTP load through gunicorn, on a private PostgreSQL cluster (the shared
one must never be restarted):

- the main database restarts: requests in flight may fail with a clean 503, none gets
  another tenant's data, none hangs, and the app recovers without being restarted;
- the stats database is unreachable for a while: pages keep working, /healthz says so,
  and every usage event is written once it is back;
- a worker gets SIGTERM: it loses no usage events;
- a worker gets SIGKILL: it loses at most the events of one flush window.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests

from tests.support.gunicorn import ROOT, gunicorn

from .cluster import Cluster, private_cluster
from .load import Load, LoadResult, login_sessions
from .seed import SeededTenant

# Each fault test starts its own cluster and gunicorn (setup ~15 s, call up to ~20 s alone).
pytestmark = [pytest.mark.soak, pytest.mark.live, pytest.mark.timeout(300)]

MAIN_DB, STATS_DB = "taskhive", "taskhive_stats"
FLUSH_INTERVAL_S = 1.0
REQUEST_TIMEOUT_S = 15.0
# The mix without writes to the stats-free pages, plus API writes: all must stay correct.
MIX = {"page": 40, "api_list": 40, "api_create": 10, "public": 10}


def _env(cluster: Cluster) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DB_NAME", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(
        DJANGO_SETTINGS_MODULE="saas.settings.test",
        DATABASE_URL=cluster.url(MAIN_DB),
        STATS_DATABASE_URL=cluster.url(STATS_DB),
    )
    return env


def _manage(cluster: Cluster, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=_env(cluster), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with private_cluster((MAIN_DB, STATS_DB)) as private:
        _manage(private, "manage.py", "migrate_schemas", "--shared", "--noinput", "-v", "0")
        _manage(private, "manage.py", "migrate", "--database=stats", "--noinput", "-v", "0")
        yield private


@pytest.fixture(scope="module")
def seeded(cluster) -> list[SeededTenant]:
    out = _manage(cluster, "-m", "tests.soak.seed", "4")
    return [SeededTenant(**row) for row in json.loads(out.strip().splitlines()[-1])]


@contextmanager
def _server(cluster: Cluster, tmp_path, **kwargs):
    with gunicorn(
        database_url=cluster.url(MAIN_DB),
        stats_database_url=cluster.url(STATS_DB),
        log_dir=tmp_path,
        extra_env={"USAGE_STATS_FLUSH_INTERVAL_S": str(FLUSH_INTERVAL_S), "GUNICORN_TIMEOUT": "30"},
        **kwargs,
    ) as server:
        yield server


def _load_with(
    server, seeded, *, duration_s: float, clients: int, fault_at_s: float, fault: Callable[[], None]
) -> tuple[LoadResult, float, float]:
    """Run the load in the background and the fault in the foreground; returns the result
    and when the fault started and ended (time.time())."""
    load = Load(
        server=server,
        tenants=seeded,
        cookies=login_sessions(server, seeded),
        clients=clients,
        duration_s=duration_s,
        mix=dict(MIX),
        timeout_s=REQUEST_TIMEOUT_S,
    )
    outcome: dict[str, LoadResult] = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("result", load.run()))
    runner.start()
    time.sleep(fault_at_s)
    fault_started = time.time()
    fault()
    fault_ended = time.time()
    runner.join(timeout=duration_s + REQUEST_TIMEOUT_S + 60)
    assert "result" in outcome, "the load did not finish"
    return outcome["result"], fault_started, fault_ended


def _request_events_since(cluster: Cluster, started_at: float, *, failed: bool | None = None) -> int:
    """Usage events of requests since `started_at`: all, or only failed (5xx) or not."""
    condition = {None: "", True: "AND status >= 500", False: "AND status < 500"}[failed]
    conn = cluster.connect(STATS_DB)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM usage_event "
                f"WHERE event IN ('request', 'api.call') AND occurred_at >= to_timestamp(%s) {condition}",
                [started_at],
            )
            return cur.fetchone()[0]
    finally:
        conn.close()


def _expected_status(kind: str) -> int:
    return 201 if kind == "api_create" else 200


def test_main_database_restart_under_load(cluster, seeded, tmp_path):
    with _server(cluster, tmp_path, workers=2, threads=2) as server:
        result, down_at, up_at = _load_with(
            server, seeded, duration_s=14, clients=8, fault_at_s=4, fault=lambda: cluster.restart(down_s=2)
        )
        log = server.log()
    summary = result.summary()
    print("\nmain database restart:", json.dumps({**summary, "down_s": round(up_at - down_at, 2)}))

    assert not result.wrong_data(), result.wrong_data()[:5]
    # Requests either worked or failed cleanly with 503; none went unanswered or hung.
    unclean = [s for s in result.samples if s.status not in (_expected_status(s.kind), 503)]
    assert not unclean, f"{unclean[:5]}\n{log}"
    assert summary["max_ms"] < REQUEST_TIMEOUT_S * 1000
    assert summary["statuses"].get(503, 0) > 0, "the restart should have been felt"
    # Recovered without a restart of the app: everything after the database is back works.
    after = [s for s in result.samples if s.started > up_at + 2]
    assert len(after) > 50
    assert all(s.status == _expected_status(s.kind) for s in after), [s for s in after if s.problem][:5]
    # Every successful request's usage event reached the stats database once it was back
    # (the server has stopped, flushing its queues). A 503 answered before host routing
    # belongs to no tenant and is not recorded, so failed ones are only bounded.
    succeeded = sum(1 for s in result.samples if s.status < 500)
    assert _request_events_since(cluster, result.started_at, failed=False) == succeeded
    assert _request_events_since(cluster, result.started_at, failed=True) <= result.requests - succeeded


def test_stats_database_outage_under_load(cluster, seeded, tmp_path):
    health: dict[str, requests.Response] = {}

    def outage() -> None:
        admin = cluster.connect()
        try:
            with admin.cursor() as cur:
                cur.execute(f'ALTER DATABASE "{STATS_DB}" ALLOW_CONNECTIONS false')
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [STATS_DB]
                )
            time.sleep(1)
            health["during"] = requests.get(server.url("/healthz"), timeout=10)
            time.sleep(3)
        finally:
            with admin.cursor() as cur:
                cur.execute(f'ALTER DATABASE "{STATS_DB}" ALLOW_CONNECTIONS true')
            admin.close()

    with _server(cluster, tmp_path, workers=2, threads=2) as server:
        result, _, _ = _load_with(server, seeded, duration_s=10, clients=6, fault_at_s=3, fault=outage)
        time.sleep(FLUSH_INTERVAL_S * 3)  # the flushers retry with backoff
        health["after"] = requests.get(server.url("/healthz"), timeout=10)
    print("\nstats database outage:", json.dumps(result.summary()))

    assert not result.errors(), result.errors()[:5]  # no page needs the stats database
    assert health["during"].status_code == 503
    assert health["during"].json()["failed"] == ["stats_database"]
    assert health["after"].status_code == 200
    assert _request_events_since(cluster, result.started_at) == result.requests


def _kill_one_worker(server, sig: signal.Signals) -> Callable[[], None]:
    """The fault: send `sig` to a worker and wait for gunicorn to replace it."""

    def fault() -> None:
        victim = server.worker_pids()[0]
        os.kill(victim, sig)
        server.wait_for_workers(2, gone=victim)

    return fault


def test_sigterm_worker_loses_no_events(cluster, seeded, tmp_path):
    with _server(cluster, tmp_path, workers=2, threads=1) as server:
        result, _, _ = _load_with(
            server,
            seeded,
            duration_s=6,
            clients=4,
            fault_at_s=3,
            fault=_kill_one_worker(server, signal.SIGTERM),
        )
    print("\nSIGTERM worker:", json.dumps(result.summary()))
    assert not result.errors(), result.errors()[:5]  # a graceful stop finishes its requests
    assert _request_events_since(cluster, result.started_at) == result.requests


def test_sigkill_worker_loses_at_most_one_flush_window(cluster, seeded, tmp_path):
    with _server(cluster, tmp_path, workers=2, threads=1) as server:
        result, killed_at, _ = _load_with(
            server,
            seeded,
            duration_s=6,
            clients=4,
            fault_at_s=3,
            fault=_kill_one_worker(server, signal.SIGKILL),
        )
    answered = [s for s in result.samples if s.status]
    events = _request_events_since(cluster, result.started_at)
    lost = len(answered) - events
    # A worker's events wait at most FLUSH_INTERVAL_S in its queue, plus a flush in progress
    # (well under a second here): only requests answered in that window can be lost.
    window_s = FLUSH_INTERVAL_S + 0.5
    at_risk = [s for s in answered if killed_at - window_s <= s.started + s.elapsed_s <= killed_at]
    print(
        "\nSIGKILL worker:",
        json.dumps({**result.summary(), "events": events, "lost": lost, "answered_in_window": len(at_risk)}),
    )
    assert not result.wrong_data()
    # Only requests in flight on the killed worker may go unanswered.
    assert len(result.samples) - len(answered) <= 1
    assert 0 <= lost <= len(at_risk)
