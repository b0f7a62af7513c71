"""Validation and COPY text encoding of queued events: pure, no database.

A queued event is the tuple `record()` appends (built inline there, for speed):
`(ts, event, tenant_id, user_id, route, method, status, latency_ms, tokens, properties)`,
`ts` in unix seconds. `queued_event()` builds the same tuple by name (tests, bench).
`LineEncoder.line()` turns one into a COPY line for `ingest.sql.EVENT_COLUMNS`, or raises
InvalidEvent and writes nothing: an event is stored whole or not at all.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

from .sql import MAX_EVENT_LEN, MAX_METHOD_LEN, MAX_PROPERTIES_BYTES, MAX_ROUTE_LEN

QueuedEvent = tuple[Any, ...]

_INT2 = 32767
_INT4 = 2**31 - 1
_INT8 = 2**63 - 1
_UUID_VARIANT = 1 << 63  # RFC 9562 variant bits of the event_id's counter half
NULL = "\\N"  # COPY text NULL
# The tenant of events recorded with no tenant at all (no request, no tenant connection).
NO_TENANT = "00000000-0000-0000-0000-000000000000"
LABELS_CACHE_MAX = 4096

# COPY text format: backslash, tab, newline and carriage return must be escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class InvalidEvent(ValueError):
    """An event PostgreSQL would refuse, or that breaks a field limit; it is dropped whole."""


def queued_event(
    event: Any,
    *,
    ts: float | None = None,
    tenant_id: Any = NO_TENANT,
    user_id: Any = None,
    route: Any = None,
    method: Any = None,
    status: Any = None,
    latency_ms: Any = None,
    tokens: Any = None,
    properties: Any = None,
) -> QueuedEvent:
    """The tuple record() queues, by name (record() builds it inline)."""
    stamp = time.time() if ts is None else ts
    return (stamp, event, tenant_id, user_id, route, method, status, latency_ms, tokens, properties)


def copy_escape(value: str) -> str:
    """`value` as COPY text; InvalidEvent for NUL, which PostgreSQL text cannot hold."""
    if value.isprintable() and "\\" not in value:  # the common case, checked in C
        return value
    if "\x00" in value:
        raise InvalidEvent("NUL")
    return value.translate(_COPY_ESCAPES)


def tenant_id_field(value: Any) -> str:
    """A uuid column: a uuid.UUID or its text form (any case, with or without hyphens)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or len(value) > 36:
        raise InvalidEvent("bad tenant id")
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise InvalidEvent("bad tenant id") from exc


def text_field(value: Any, max_len: int, *, required: bool = False) -> str:
    """A varchar(max_len) column: None is NULL unless `required` (then empty fails too)."""
    if value is None:
        if required:
            raise InvalidEvent("missing")
        return NULL
    if not isinstance(value, str) or len(value) > max_len or (required and not value):
        raise InvalidEvent("bad text")
    return copy_escape(value)


def int_field(value: Any, low: int, high: int) -> str:
    """An integer column in [low, high]; bools and numeric strings are refused."""
    if type(value) is not int or not low <= value <= high:
        raise InvalidEvent("bad int")
    return str(value)


def properties_field(properties: Any) -> str:
    """A jsonb column: a dict of at most MAX_PROPERTIES_BYTES characters of compact JSON,
    without NaN, infinities or \\u0000 (which jsonb refuses)."""
    if not isinstance(properties, dict):
        raise InvalidEvent("properties must be a dict")
    try:
        props = json.dumps(properties, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidEvent("properties not JSON") from exc
    if len(props) > MAX_PROPERTIES_BYTES or "\\u0000" in props:
        raise InvalidEvent("properties too large or NUL")
    return copy_escape(props)


class LineEncoder:
    """Turns queued events into COPY text lines (bytes). One thread at a time: the
    collector's flusher, under its write lock."""

    def __init__(self) -> None:
        self.new_process()

    def new_process(self) -> None:
        """A fresh id prefix and empty caches (a forked child must not reuse the parent's ids)."""
        # event_id: a random per-process prefix (UUIDv8 layout) and a counter, so ids are
        # unique without a syscall per event, and a retried batch keeps its ids.
        prefix = bytearray(os.urandom(8))
        prefix[6] = (prefix[6] & 0x0F) | 0x80  # version 8
        self._id_prefix = prefix.hex()
        self._id_counter = 0
        self._second = -1
        self._second_text = ""
        # (tenant_id, event, route, method) -> their escaped, tab-joined COPY text. Routes are
        # URL names, so the distinct combinations are few; the bound guards odd callers.
        self._labels: dict[tuple[Any, ...], str] = {}

    def line(self, item: QueuedEvent) -> bytes:
        """One COPY line, or InvalidEvent (nothing half-written). The flusher's hot loop:
        one f-string, no helper calls for the common values."""
        ts, event, tenant_id, user_id, route, method, status, latency_ms, tokens, properties = item
        if latency_ms is None:
            latency = NULL
        elif type(latency_ms) in (int, float) and 0 <= latency_ms < 1e9:  # NaN and infinities fail
            latency = repr(float(latency_ms))
        else:
            raise InvalidEvent("bad latency")
        props = NULL if properties is None else properties_field(properties)
        try:
            labels = self._labels[(tenant_id, event, route, method)]
        except (KeyError, TypeError):  # TypeError: an unhashable value, rejected below
            labels = self._labels_text(tenant_id, event, route, method)
        second = int(ts)
        if second != self._second:  # timestamps cost a strftime once per second
            self._second = second
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
        self._id_counter += 1
        text = (
            # The variant bit keeps the counter's hex 16 digits long without padding.
            f"{self._id_prefix}{_UUID_VARIANT | self._id_counter:x}\t"
            f"{self._second_text}.{str(int((ts - second) * 1e6) + 1_000_000)[1:]}+00\t{labels}\t"
            f"{NULL if user_id is None else int_field(user_id, -_INT8, _INT8)}\t"
            f"{NULL if status is None else int_field(status, 0, _INT2)}\t{latency}\t"
            f"{NULL if tokens is None else int_field(tokens, -_INT4, _INT4)}\t{props}\n"
        )
        try:
            return text.encode()
        except UnicodeEncodeError as exc:  # lone surrogates
            raise InvalidEvent("not UTF-8") from exc

    def lines(self, items: list[QueuedEvent]) -> tuple[list[bytes], int]:
        """The COPY lines of the valid events, and how many were invalid (left out whole)."""
        line = self.line
        lines = []
        invalid = 0
        for item in items:
            try:
                lines.append(line(item))
            except Exception:  # InvalidEvent, or anything odd a caller passed
                invalid += 1
        return lines, invalid

    def _labels_text(self, tenant_id: Any, event: Any, route: Any, method: Any) -> str:
        text = "\t".join(
            (
                tenant_id_field(tenant_id),
                text_field(event, MAX_EVENT_LEN, required=True),
                text_field(route, MAX_ROUTE_LEN),
                text_field(method, MAX_METHOD_LEN),
            )
        )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates: never cache a line that cannot encode
            raise InvalidEvent("not UTF-8") from exc
        if len(self._labels) >= LABELS_CACHE_MAX:
            self._labels.clear()
        self._labels[(tenant_id, event, route, method)] = text
        return text
