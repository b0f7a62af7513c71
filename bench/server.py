"""gunicorn on a free loopback port for the HTTP benchmarks, serving this checkout."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def gunicorn_serving(*, label: str, env: dict[str, str], workers: int) -> Iterator[int]:
    """Start gunicorn (usage stats off, DEBUG off, one thread per worker) with `env` over
    this process's environment; yield its port once /healthz answers; stop it afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    full_env = {
        **os.environ,
        "DEBUG": "false",
        "USAGE_STATS_ENABLED": "false",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": "1",
        **env,
    }
    # A file, not a pipe: thousands of access-log lines would fill a pipe nobody reads and
    # stall the workers.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "saas.wsgi",
            "-c",
            "saas/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(log.read().decode(errors="replace")[-2000:]) from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn ({label}) did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
