"""Processes a test started, and their children, read from /proc (no psutil needed)."""

from pathlib import Path


def child_pids(parent_pid: int) -> list[int]:
    """Live children of `parent_pid` (gunicorn workers, Celery pool processes), sorted."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent_pid and fields[0] not in ("Z", "X"):  # not dead or reaped
            pids.append(int(stat.parent.name))
    return sorted(pids)
