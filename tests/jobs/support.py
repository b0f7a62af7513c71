"""A private redis-server and real `celery worker` / `celery beat` processes for tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.processes import child_pids

ROOT = Path(__file__).resolve().parents[2]
# Redis ports for tests (6379 is never used: it may be someone's real server).
TEST_REDIS_PORTS = range(6391, 6431)


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def redis_port_pick() -> int:
    for port in TEST_REDIS_PORTS:
        if port_is_free(port):
            return port
    raise RuntimeError(f"no free Redis test port in {TEST_REDIS_PORTS}")


@dataclass
class RedisServer:
    port: int
    data_dir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, db: int = 0) -> redis.Redis:
        url = f"redis://127.0.0.1:{self.port}/{db}"
        return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def start(self, timeout_s: float = 10) -> None:
        assert self.process is None or self.process.poll() is not None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                "--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", "always",
                "--save", "", "--protected-mode", "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on {self.port}")

    def stop(self) -> None:
        """Stop the server (its append-only file keeps what was queued)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@contextmanager
def redis_server(data_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(port=redis_port_pick(), data_dir=data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class CeleryProcess:
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str] = field(repr=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def children(self) -> list[int]:
        return child_pids(self.process.pid)

    def stop(self, timeout_s: float = 20) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def jobs_env(*, database_url: str, stats_database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DB_NAME", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(
        DJANGO_SETTINGS_MODULE="saas.settings.test",
        DATABASE_URL=database_url,
        STATS_DATABASE_URL=stats_database_url,
        REDIS_URL=redis_url,
        JOBS_RELAY_INTERVAL_S="0.5",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@contextmanager
def celery_process(
    kind: str, *, env: dict[str, str], log_dir: Path, args: Sequence[str] = (), ready_timeout_s: float = 60
) -> Iterator[CeleryProcess]:
    """`celery -A saas worker|beat`; a worker is ready once its heartbeat is in Redis."""
    log_path = log_dir / f"celery-{kind}-{time.monotonic_ns()}.log"
    if kind == "worker":
        cmd = [
            sys.executable, "-m", "celery", "-A", "saas", "worker", "--loglevel", "INFO",
            "--pool", "prefork", "--concurrency", "1", "--without-gossip", "--without-mingle",
            "--hostname", f"test-{time.monotonic_ns()}@%h", "--include", "tests.jobs.probe_tasks",
        ]  # fmt: skip
    else:
        cmd = [
            sys.executable, "-m", "celery", "-A", "saas", "beat", "--loglevel", "INFO",
            "--schedule", str(log_dir / f"beat-schedule-{time.monotonic_ns()}"),
        ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*cmd, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    proc = CeleryProcess(process=process, log_path=log_path, env=env)
    try:
        if kind == "worker":
            _wait_for_worker(proc, redis_url=env["REDIS_URL"], timeout_s=ready_timeout_s)
        yield proc
    finally:
        proc.stop()


def _wait_for_worker(proc: CeleryProcess, *, redis_url: str, timeout_s: float) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.process.poll() is not None:
            raise AssertionError(f"celery worker exited with {proc.process.returncode}:\n{proc.log()}")
        if b"ready." in proc.log_path.read_bytes() and client.zcard("taskhive:jobs:workers"):
            return
        time.sleep(0.2)
    raise AssertionError(f"celery worker not ready:\n{proc.log()}")


def wait_for(predicate, *, timeout_s: float, interval_s: float = 0.1, message: str = "condition"):
    """Poll until predicate() is truthy; return its value or fail after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {message}")
