"""gunicorn, as production runs it, on a free loopback port, against given databases."""

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

import requests
from django.db import connections

from tests.support.processes import child_pids
from tests.support.tiers import needs_tier

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "test-metrics-token-0123456789"
GUNICORN_CMD = (sys.executable, "-m", "gunicorn", "saas.wsgi", "-c", "saas/gunicorn.conf.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(alias: str, *, port: int | None = None, name: str | None = None) -> str:
    """A URL for the alias's current database (the test database under pytest)."""
    params = connections[alias].settings_dict
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST']}:{port or params['PORT']}/{name or params['NAME']}"


@dataclass
class Gunicorn:
    port: int
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str] = field(repr=False)

    def url(self, path: str = "/") -> str:
        """Loopback URL; the tenant is chosen by the Host header (`headers(host)`)."""
        return f"http://127.0.0.1:{self.port}{path}"

    def headers(self, host: str, **extra: str) -> dict[str, str]:
        """*.localhost does not resolve everywhere, so requests go to 127.0.0.1 with this Host."""
        return {"Host": f"{host}:{self.port}", **extra}

    def worker_pids(self) -> list[int]:
        return child_pids(self.process.pid)

    def wait_for_workers(self, count: int, *, gone: int | None = None, timeout_s: float = 30) -> list[int]:
        """Wait until `count` live workers run (and worker `gone` is not one of them)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) >= count and gone not in pids:
                return pids
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not reach {count} workers:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


@needs_tier("live")
@contextmanager
def gunicorn(
    *,
    database_url: str,
    stats_database_url: str,
    log_dir: Path,
    workers: int = 2,
    threads: int = 1,
    extra_env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
    settings_module: str = "saas.settings.test",
) -> Iterator[Gunicorn]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DB_NAME", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DATABASE_URL=database_url,
        STATS_DATABASE_URL=stats_database_url,
        PORT=str(port),
        WEB_CONCURRENCY=str(workers),
        GUNICORN_THREADS=str(threads),
        METRICS_TOKEN=METRICS_TOKEN,
        **(extra_env or {}),
    )
    log_path = log_dir / f"gunicorn-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*GUNICORN_CMD, *extra_args, "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Gunicorn(port=port, process=process, log_path=log_path, env=env)
    try:
        _wait_until_serving(server)
        server.wait_for_workers(workers)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_until_serving(server: Gunicorn, timeout_s: float = 45) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.process.returncode}:\n{server.log()}")
        try:
            if requests.get(server.url("/healthz"), timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not become healthy:\n{server.log()}")


# `make run`'s settings (saas/settings/local.py): DEBUG off, the generated secret, whitenoise.
MAKE_RUN_SETTINGS = "saas.settings.local"


@contextmanager
def make_run_gunicorn(*, log_dir: Path, workers: int = 2, **env: str) -> Iterator[Gunicorn]:
    """gunicorn with `make run`'s settings against this run's test databases."""
    extra = {"USAGE_STATS_ENABLED": "false", **env}
    with gunicorn(
        database_url=database_url("default"),
        stats_database_url=database_url("stats"),
        log_dir=log_dir,
        workers=workers,
        extra_env=dict(extra),
        settings_module=MAKE_RUN_SETTINGS,
    ) as server:
        yield server
