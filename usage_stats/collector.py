"""Placeholder API so other apps can emit events; the real collector is issue 4's work."""

from typing import Any


def record(
    event: str,
    *,
    tenant: str | None = None,
    user_id: int | None = None,
    route: str | None = None,
    status: int | None = None,
    latency_ms: float | None = None,
    tokens: int | None = None,
    properties: dict[str, Any] | None = None,
) -> None:
    """Queue one usage event. Never raises into the caller."""


def flush(timeout_s: float = 10.0) -> None:
    """Write every queued event now (tests call this)."""
